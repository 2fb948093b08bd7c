"""Silence third-party messages that tell a user nothing, before those packages load.

Only the named messages are silenced; every other warning or log record of these packages
is still shown.
"""

from __future__ import annotations

import logging
import re
import warnings

#: (category, message regex, module regex) of Python warnings that say nothing to a user.
NOISY_WARNINGS = [
    # ArviZ 0.x announces its 1.0 refactor on import.
    (FutureWarning, r"\s*ArviZ is undergoing a major refactor", r"arviz"),
    # The TFR model is element-wise (no matrix products), so a missing BLAS costs nothing.
    (UserWarning, r"PyTensor could not link to a BLAS", r""),
]
#: Logger name -> regex of log messages that say nothing to a user.
NOISY_RECORDS = {
    # ArviZ 0.x reports on import whether its optional 1.0 preview packages are installed.
    "arviz.preview": r"arviz_\w+ (not installed|available)",
    # Matplotlib's one-off notices on a machine that has not built its font cache yet.
    "matplotlib.font_manager": r"Matplotlib is building the font cache|generated new fontManager",
}


class _DropMatching(logging.Filter):
    def __init__(self, pattern: str):
        super().__init__()
        self.pattern = re.compile(pattern)

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.match(record.getMessage())


def quiet_third_party() -> None:
    """Install the filters of :data:`NOISY_WARNINGS` and :data:`NOISY_RECORDS` (idempotent)."""
    for category, message, module in NOISY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    for name, pattern in NOISY_RECORDS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMatching) for f in logger.filters):
            logger.addFilter(_DropMatching(pattern))


quiet_third_party()
