"""Declared options: the type, range and default of each config option, written once beside
the code that reads it, and the check of a composed config against them.

A module declares the options it reads as a :class:`Group` (``OPTIONS``; a model class or
loader function carries it as an attribute, found through the config's ``_target_``) and
reads each option's default from that declaration. :func:`check` walks a resolved config
and returns every problem at once, one line each::

    config, fertility.draws: got 2.5; expected a whole number >= 1.

An option is checked where the config has it; a ``required`` option is also reported where
the config leaves it out ("got nothing"). Whole numbers accept ints and integral floats
(``1e7``) and refuse fractions, text and booleans; numbers refuse booleans, text, NaN and
infinities. Rules that tie options together (a horizon after the base year) are functions
``rule(node, name, problems, root)`` declared with the group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


#: An option the config leaves out (shown as "nothing").
MISSING: Any = _Missing()


class Problems:
    """Collects problems, one line each: ``config, <name>: got <value>; expected <what>.``"""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, name: str, got, expected: str) -> None:
        self.lines.append(f"config, {name}: got {shown(got)}; expected {expected}.")


def shown(value) -> str:
    """A config value as a problem line shows it."""
    if value is MISSING:
        return "nothing"
    if value is None:
        return "null"
    return repr(value)


def as_whole(value) -> int | None:
    """``value`` as an int if it is a whole number (int or integral float), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def as_number(value) -> float | None:
    """``value`` as a finite float (not a boolean or text), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


#: rule(node, name, problems, root): a check that ties options together.
Rule = Callable[[Mapping, str, Problems, Mapping], None]


@dataclass(frozen=True, kw_only=True)
class Option:
    """One option: its ``default`` (where the config leaves it out), whether the config must
    have it (``required``) and whether null is allowed (``nullable``)."""

    default: Any = MISSING
    required: bool = False
    nullable: bool = False

    def check(self, value, name: str, problems: Problems, root: Mapping) -> None:
        """Report ``value`` of option ``name`` when it breaks the declaration."""
        if value is None and self.nullable:
            return
        self.validate(value, name, problems, root)

    def validate(self, value, name: str, problems: Problems, root: Mapping) -> None:
        raise NotImplementedError

    def expected(self) -> str:
        """What the option must be, in words (the end of a problem line)."""
        return "a value"


@dataclass(frozen=True)
class Whole(Option):
    """A whole number from ``lo`` to ``hi`` (either may be None)."""

    lo: int | None = None
    hi: int | None = None
    what: str | None = None

    def expected(self) -> str:
        if self.what:
            return self.what
        text = "a whole number"
        if self.lo is not None and self.hi is not None:
            return f"{text} from {self.lo} to {self.hi}"
        return f"{text} >= {self.lo}" if self.lo is not None else text

    def validate(self, value, name, problems, root) -> None:
        number = as_whole(value)
        if (number is None or (self.lo is not None and number < self.lo)
                or (self.hi is not None and number > self.hi)):
            problems.add(name, value, self.expected())


@dataclass(frozen=True)
class Number(Option):
    """A finite number within ``lo`` and ``hi`` (open ends where ``lo_open``/``hi_open``)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    what: str | None = None

    def expected(self) -> str:
        if self.what:
            return self.what
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {self.hi:g}")
        return "a number" + (" " + " and ".join(parts) if parts else "")

    def validate(self, value, name, problems, root) -> None:
        number = as_number(value)
        bad = (number is None
               or (self.lo is not None and (number < self.lo
                                            or (self.lo_open and number == self.lo)))
               or (self.hi is not None and (number > self.hi
                                            or (self.hi_open and number == self.hi))))
        if bad:
            problems.add(name, value, self.expected())


@dataclass(frozen=True)
class Choice(Option):
    """One of ``options`` (text)."""

    options: tuple = ()

    def expected(self) -> str:
        return "one of " + ", ".join(self.options)

    def validate(self, value, name, problems, root) -> None:
        if not (isinstance(value, str) and value in self.options):
            problems.add(name, value, self.expected())


@dataclass(frozen=True)
class Flag(Option):
    """true or false."""

    def expected(self) -> str:
        return "true or false"

    def validate(self, value, name, problems, root) -> None:
        if not isinstance(value, bool):
            problems.add(name, value, self.expected())


@dataclass(frozen=True)
class Text(Option):
    """A non-empty text without control characters (a line break in a name would split a
    row of the CSV files it is written to); ``hint`` adds an example to the message."""

    hint: str = ""

    def expected(self) -> str:
        return "a non-empty text without control characters (line breaks, tabs)" + self.hint

    def validate(self, value, name, problems, root) -> None:
        if not (isinstance(value, str) and value.strip()
                and not any(ord(c) < 32 or c == "\x7f" for c in value)):
            problems.add(name, value, self.expected())


@dataclass(frozen=True)
class Where(Option):
    """Any value for which ``test(value)`` holds; ``what`` says what that is."""

    test: Callable[[Any], bool] = lambda value: True
    what: str = ""

    def expected(self) -> str:
        return self.what

    def validate(self, value, name, problems, root) -> None:
        if not self.test(value):
            problems.add(name, value, self.what)


@dataclass(frozen=True)
class Group(Option):
    """A group of options (a mapping in the config), with ``rules`` that tie them together.

    Its keys are those of ``options``, those its rules check (a rule function's ``keys``
    attribute) and ``rule_keys`` (keys its rules or code read, declared here); any other key
    is unknown (:func:`check`: a typo, or an option added with ``+key=value`` that nothing
    reads)."""

    options: Mapping[str, Option] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    what: str = "a group of options"
    rule_keys: tuple[str, ...] = ()

    def keys(self) -> set[str]:
        """Every key the group may hold."""
        return ({*self.options, *self.rule_keys}
                | {k for rule in self.rules for k in getattr(rule, "keys", ())})

    def expected(self) -> str:
        return self.what

    def validate(self, value, name, problems, root) -> None:
        if not isinstance(value, Mapping):
            problems.add(name, value, self.what)
            return
        for key, option in self.options.items():
            path = f"{name}.{key}" if name else key
            if key in value:
                option.check(value[key], path, problems, root)
            elif option.required:
                problems.add(path, MISSING, option.expected())
        for rule in self.rules:
            rule(value, name, problems, root)

    def default_of(self, key: str):
        """The declared default of option ``key``."""
        return self.options[key].default

    def value(self, node: Mapping | None, key: str):
        """Option ``key`` of ``node``, or its declared default where ``node`` leaves it out."""
        node = node or {}
        return node[key] if key in node else self.options[key].default

    def extended(self, options: Mapping[str, Option] | None = None,
                 rules: tuple[Rule, ...] = ()) -> "Group":
        """This group with more options and rules (a subclass's)."""
        return Group(default=self.default, required=self.required, nullable=self.nullable,
                     options={**self.options, **(options or {})}, rules=self.rules + rules,
                     what=self.what, rule_keys=self.rule_keys)


@dataclass(frozen=True)
class Target(Option):
    """A group naming the code that uses it (``_target_``): its options are those the
    target declares (``OPTIONS``, a :class:`Group`); a target that declares none has its
    options left to it."""

    def expected(self) -> str:
        return "a group of options"

    def validate(self, value, name, problems, root) -> None:
        if not isinstance(value, Mapping):
            problems.add(name, value, "a group of options")
            return
        options = declared_options(value.get("_target_"))
        if options is not None:
            options.validate(value, name, problems, root)


def declared_options(target) -> Group | None:
    """The options the code at ``target`` (a dotted name) declares, or None."""
    if not isinstance(target, str) or not target:
        return None
    from hydra.utils import get_object  # the config's own way to find its target

    try:
        obj = get_object(target)
    except Exception:  # noqa: BLE001 - an unknown target is reported when it is instantiated
        return None
    options = getattr(obj, "OPTIONS", None)
    return options if isinstance(options, Group) else None


def check(config: Mapping, options: Group) -> list[str]:
    """Every problem of the resolved ``config`` against ``options``, one line each; also
    every key no group declares (:meth:`Group.keys`)."""
    problems = Problems()
    options.validate(config, "", problems, config)
    _unknown_keys(config, options, "", problems)
    return problems.lines


def _unknown_keys(value, option: Option, name: str, problems: Problems) -> None:
    """Report the keys of ``value`` that ``option`` (a group, or a target's declared group)
    does not know; groups of targets that declare nothing are left to their code."""
    if isinstance(option, Target) and isinstance(value, Mapping):
        option = declared_options(value.get("_target_"))
    if not isinstance(option, Group) or not isinstance(value, Mapping):
        return
    known = option.keys()
    for key, child in value.items():
        path = f"{name}.{key}" if name else str(key)
        if key == "_target_":
            continue
        if key in option.options:
            _unknown_keys(child, option.options[key], path, problems)
        elif key not in known:
            add_unknown(problems, path, child, name, known)


def add_unknown(problems: Problems, path: str, value, parent: str, known) -> None:
    """Report key ``path`` (with ``value``) that its ``parent`` group does not hold: the
    problem names the keys it has (``known``)."""
    problems.add(path, value, "an option that exists: " + (parent or "the top level")
                 + " has " + ", ".join(sorted(map(str, known))))


#: Largest seed NumPy accepts.
SEED_MAX = 2**32 - 1


def seed_option(**kwargs) -> Whole:
    """A random seed: a whole number from 0 to :data:`SEED_MAX`."""
    return Whole(0, SEED_MAX, **kwargs)


def explicit_seed(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    """Rule: a model's ``random_seed`` is checked where it is not the run's ``seed`` (the
    default ``${seed}`` is reported once, as ``seed``)."""
    if "random_seed" in node and node["random_seed"] != root.get("seed"):
        seed_option().check(node["random_seed"], f"{name}.random_seed", problems, root)


explicit_seed.keys = ("random_seed",)


def draws_of_fertility(node, name, problems, root) -> None:
    """Rule: a model's ``draws`` equal the fertility model's (the default interpolates
    ``fertility.draws``, whose own rule reports a bad value)."""
    wanted = (root.get("fertility") or {}).get("draws", 1)
    if "draws" not in node or node["draws"] == wanted:
        return
    Whole(1).check(node["draws"], f"{name}.draws", problems, root)
    draws = as_whole(node["draws"])
    if draws is not None and draws >= 1 and as_whole(wanted) not in (None, draws):
        problems.add(f"{name}.draws", node["draws"], f"the fertility model's draws ({wanted}); "
                     "leave it at its default ${oc.select:fertility.draws,1}")


draws_of_fertility.keys = ("draws",)
