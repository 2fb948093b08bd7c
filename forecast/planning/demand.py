"""Childcare-place and kindergarten-seat demand from a projection, against current supply.

Pure functions on labelled arrays: population by region, age, year and draw in; indicators
(region, year[, draw]) out, each with ``units`` in its attrs. Every standard comes from the
``demand`` config (value, year it applies from, source); an indicator that uses a standard is
reported from the year the standard applies. Ages are completed years at 1 July: under 3 =
ages 0, 1, 2 (托育); kindergarten = ages 3, 4, 5.

Childcare places (托位):

- standard: resident population × places per 1,000 / 1,000; of which affordable (普惠):
  × affordable share;
- need (realised, willingness): Σ_{a=0}^{2} population_a × take-up_a;
- new residential areas: new residents × places per 1,000 / 1,000, usable floor area
  (使用面积) = places × m² per place. New residents come from a plan table or, without one,
  the projected increase of the resident population over the year where positive;
- caregivers (保育人员): places at each age over the children per caregiver of its class
  type (乳儿班 1:3 at age 0, 托小班 1:5 at age 1, 托大班 1:7 at age 2), for the need and for
  the standard's places (spread over the ages as the children aged 0-2 are).

Kindergarten seats: need = population aged 3-5 × gross enrolment target, of which public and
affordable by their shares; classes = ⌈need / class size⌉; teachers and care staff per class.

Supply and gaps (supply in each year from :mod:`forecast.planning.supply`): gap = need −
supply (shortage positive, surplus negative), per draw, the childcare need being the
take-up based one of ``childcare_gap_basis``; the probability of a shortage is the share of
draws with gap > 0, of a surplus the share with supply − need > margin × need. Compliance
with a standard is reported as such, not as a probability: childcare places per 1,000
residents = supply / population × 1,000 and whether it meets the standard (1/0), the
affordable share of places and whether it meets its standard, and the places the standard
still asks for (standard − supply).

Toddler classes in kindergartens (托幼一体化): idle seats = max(supply − need, 0), per draw;
they take children aged 2 at ``toddler_conversion`` children per seat, at most the children
aged 2 who would use a place (population aged 2 × the take-up at age 2 of the gap basis);
the childcare gap that remains is the gap less those places (where there is a gap).

Subsidy (育儿补贴): children of the eligible ages × amount per child per year.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import xarray as xr

from forecast.core.options import (MISSING, Choice, Flag, Group, Number, Problems, Text, Where,
                                   Whole, add_unknown, as_whole)
from forecast.planning.supply import SUPPLY_OPTIONS

PLACES, SEATS = "places", "seats"

# --------------------------------------------------------------------------- options

#: Ages of children the demand stage knows (childcare 0-2, kindergarten 3-5).
CHILD_AGES = range(0, 6)
#: What the childcare gap and P(shortage) are measured against (``childcare_gap_basis``):
#: a take-up based need, which is uncertain; the standard is a compliance check.
GAP_BASES = ("need_realised", "need_willingness")
#: Standards :func:`demand_indicators` reads, each a node with ``value`` and ``applies_from``.
STANDARDS = [
    "childcare.places_per_1000", "childcare.affordable_share",
    "childcare.new_residential.places_per_1000", "childcare.new_residential.m2_per_place",
    "kindergarten.enrolment_target", "kindergarten.public_share",
    "kindergarten.affordable_share", "kindergarten.class_size",
    "kindergarten.teachers_per_class", "kindergarten.care_staff_per_class",
    "kindergarten.toddler_conversion", "subsidy.amount_per_child_per_year"]
#: Take-up rates by age, each a node with ``rates`` and ``applies_from``.
TAKE_UP = ["childcare.take_up.realised", "childcare.take_up.willingness"]
#: Children per caregiver by age (class type), a node with ``by_age`` and ``applies_from``.
STAFFING = "childcare.children_per_caregiver"
#: Standards that are shares, targets or conversion rates: between 0 and 1.
SHARE_NAMES = ("enrolment_target", "toddler_conversion")
YEAR = Whole(what="a whole-number year")


def _standard_option(name: str):
    """The range of a standard's ``value`` by its name."""
    if name == "class_size":
        return Whole(1, what="a whole number of children >= 1")
    if name.endswith("_share") or name in SHARE_NAMES:
        return Number(0, 1, what="a share from 0 to 1")
    if name.endswith("per_1000"):
        return Number(0, 1000)
    return Number(0)


def _get(node: Mapping, dotted: str):
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node


def _walk(node: Mapping, prefix: str, problems: Problems, root: Mapping) -> None:
    """Every standard (a node with ``value``) and take-up (``rates``) under ``node``."""
    for key, child in node.items():
        path = f"{prefix}.{key}"
        if not isinstance(child, Mapping):
            continue
        if "value" in child:
            _standard_option(str(key)).check(child["value"], f"{path}.value", problems, root)
            YEAR.check(child.get("applies_from", MISSING), f"{path}.applies_from", problems, root)
        elif "by_age" in child:
            by_age = child["by_age"]
            if not isinstance(by_age, Mapping) or {as_whole(a) for a in by_age} != {0, 1, 2}:
                problems.add(f"{path}.by_age", by_age, "a mapping of ages 0, 1, 2 -> children "
                             "per caregiver, e.g. {0: 3, 1: 5, 2: 7}")
            else:
                for age, ratio in by_age.items():
                    Number(1, 100, what="children per caregiver from 1 to 100").check(
                        ratio, f"{path}.by_age.{age}", problems, root)
            YEAR.check(child.get("applies_from", MISSING), f"{path}.applies_from", problems, root)
        elif "rates" in child:
            rates = child["rates"]
            if not isinstance(rates, Mapping) or not rates:
                problems.add(f"{path}.rates", rates, "a mapping of age (0-5) -> take-up rate "
                             "from 0 to 1, e.g. {0: 0.06, 1: 0.06, 2: 0.06}")
            else:
                for age, rate in rates.items():
                    if as_whole(age) not in CHILD_AGES:
                        problems.add(f"{path}.rates", age, "ages 0-5 as keys")
                    Number(0, 1, what="a take-up rate from 0 to 1").check(
                        rate, f"{path}.rates.{age}", problems, root)
            YEAR.check(child.get("applies_from", MISSING), f"{path}.applies_from", problems, root)
        else:
            _walk(child, path, problems, root)


def _standards(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    """Rule: with the stage enabled, every standard present and valid, and no key under the
    standards' groups that nothing reads."""
    if node.get("enabled") is not True:
        return  # the demand stage does not run; its other options are not read
    ENABLED.validate(node, name, problems, root)
    for path in STANDARDS + TAKE_UP + [STAFFING]:
        if _get(node, path) is MISSING:
            problems.add(f"{name}.{path}", MISSING, "a standard with value and applies_from "
                         "(see configs/demand/national.yaml)")
    _walk(node, name, problems, root)
    for key, layout in _LAYOUT.items():
        if isinstance(node.get(key), Mapping):
            _unknown_keys(node[key], layout, f"{name}.{key}", problems)


def _layout() -> dict:
    """The keys the standards' groups may hold, as a tree: a standard's node ends in the set
    of its own keys; an option of :data:`ENABLED` inside a group ends in None (any value)."""
    tree: dict = {}
    ends = ([(path, {"value"}) for path in STANDARDS] + [(path, {"rates"}) for path in TAKE_UP]
            + [(STAFFING, {"by_age"})])
    for path, keys in ends:
        *groups, last = path.split(".")
        branch = tree
        for group in groups:
            branch = branch.setdefault(group, {})
        branch[last] = keys | {"applies_from", "source"}
    for key, option in ENABLED.options.items():
        if key in tree and isinstance(option, Group):
            _merge_options(tree[key], option)
    return tree


def _merge_options(branch: dict, group: Group) -> None:
    for key, option in group.options.items():
        if isinstance(option, Group):
            _merge_options(branch.setdefault(key, {}), option)
        else:
            branch[key] = None


def _unknown_keys(node: Mapping, layout: dict | set, name: str, problems: Problems) -> None:
    """Report every key of ``node`` that ``layout`` (:func:`_layout`) does not hold."""
    known = layout if isinstance(layout, set) else set(layout)
    for key, child in node.items():
        path = f"{name}.{key}"
        if key not in known:
            add_unknown(problems, path, child, name, known)
        elif isinstance(layout, dict) and isinstance(child, Mapping) and layout[key]:
            _unknown_keys(child, layout[key], path, problems)


#: Options read when the demand stage is enabled (besides the standards).
ENABLED = Group({
    "childcare_gap_basis": Choice(GAP_BASES, required=True),
    "surplus_margin": Number(0, required=True),
    "supply_file": Text(nullable=True, default=None),
    **SUPPLY_OPTIONS,
    "childcare": Group({"new_residential": Group({
        "new_residents_file": Text(nullable=True, default=None)})}),
    "subsidy": Group({"eligible_ages": Where(
        lambda ages: isinstance(ages, list) and bool(ages)
        and all(as_whole(a) in CHILD_AGES for a in ages),
        what="a list of ages 0-5, e.g. [0, 1, 2]", required=True)}),
})
#: The keys under each group of standards (:func:`_layout`).
_LAYOUT = _layout()
#: The ``demand`` config group (``configs/demand/``): standards with their sources.
DEMAND_OPTIONS = Group({"enabled": Flag(default=False)}, rules=(_standards,), rule_keys=(
    *ENABLED.options, *{path.split(".")[0] for path in STANDARDS + TAKE_UP + [STAFFING]}))


def _standard(node: dict) -> tuple[float, int]:
    return float(node["value"]), int(node["applies_from"])


def _from_year(da: xr.DataArray, year: int, units: str) -> xr.DataArray:
    """``da`` for years >= ``year`` (NaN before), labelled with ``units``."""
    return da.where(da["year"] >= year).assign_attrs(units=units)


def _take_up(node: dict) -> xr.DataArray:
    return _by_age(node["rates"])


def _by_age(values: Mapping) -> xr.DataArray:
    """A mapping age -> number as a DataArray (age)."""
    values = {int(a): float(r) for a, r in values.items()}
    return xr.DataArray(list(values.values()), dims="age", coords={"age": list(values)})


def _compliance(value: xr.DataArray, standard: float, year: int) -> xr.DataArray:
    """1 where ``value`` meets ``standard`` (>=), 0 where not, NaN where undefined or before
    the standard's ``year``: compliance, not a probability."""
    met = (value >= standard).astype(float).where(value.notnull())
    return _from_year(met, year, "1 = meets the standard")


def _probability(event: xr.DataArray, defined: xr.DataArray) -> xr.DataArray:
    """Share of draws in which ``event`` holds, where ``defined`` (NaN elsewhere)."""
    return event.astype(float).mean("draw").where(defined).assign_attrs(units="probability")


def demand_indicators(population: xr.DataArray, standards: dict,
                      supply: xr.Dataset | None = None,
                      new_residents: xr.DataArray | None = None,
                      total: xr.DataArray | None = None) -> dict[str, xr.DataArray]:
    """All demand indicators.

    Parameters
    ----------
    population : (region, age, year, draw), persons at 1 July (both sexes): every age, or
        ages 0-5 with ``total`` given
    total : (region, year, draw), all residents at 1 July; default: population summed
        over age
    standards : the ``demand`` config as a plain dict (see configs/demand/national.yaml)
    supply : (region, year) counts from :func:`forecast.planning.supply.supply_by_year`;
        regions and years without supply get no gap
    new_residents : (region, year), persons; default: projected population increase

    Returns
    -------
    dict name -> DataArray (region, year, draw) or (region, year) for probabilities.
    """
    drivers = demand_drivers(population, standards, new_residents, total)
    found: dict[str, xr.DataArray] = {}
    for driver, group in DRIVEN_GROUPS:
        found.update(group(drivers[driver], standards, supply))
    found.update(joint_indicators(drivers, standards, supply))
    return {name: found[name] for name in INDICATOR_ORDER if name in found}


# ----------------------------------------------------------- what each indicator comes from
#
# Every indicator but a few is a non-decreasing (or, for those in DECREASING, non-increasing)
# function of one per-draw quantity, its driver, applied draw by draw with (region, year)
# constants: a standard, a year it applies from, the supply. Its quantiles are then that
# function of the driver's order statistics, which the county stage uses to sort each driver
# once instead of every indicator (forecast.planning.county_demand). The few that combine
# two drivers (joint_indicators) and the probabilities are computed from every draw.


def demand_drivers(population: xr.DataArray, standards: dict,
                   new_residents: xr.DataArray | None = None,
                   total: xr.DataArray | None = None) -> dict[str, xr.DataArray]:
    """The per-draw quantities (region, year, draw) the indicators are functions of, in
    persons: ``total`` residents, take-up based ``need_realised`` and ``need_willingness``,
    ``caregivers_need`` (caregivers for the gap basis' need), ``increase`` (new residents),
    ``ages_3_5``, ``eligible`` (children of the subsidy's ages); and, for
    :func:`joint_indicators`, ``spread`` (caregivers per childcare place of the standard) and
    ``age_2`` (children aged 2). Arguments as :func:`demand_indicators`."""
    cc, sub = standards["childcare"], standards["subsidy"]
    total = _ages_summed(population) if total is None else total
    drivers = {"total": total}
    basis = _basis(standards)
    per_caregiver = _by_age(cc["children_per_caregiver"]["by_age"])
    for variant in ("realised", "willingness"):
        rates = _take_up(cc["take_up"][variant])
        need_by_age = population.sel(age=rates["age"]) * rates
        drivers[f"need_{variant}"] = _ages_summed(need_by_age)
        if variant == basis:
            drivers["caregivers_need"] = _ages_summed(need_by_age / per_caregiver)
    under_3 = population.sel(age=per_caregiver["age"])
    children = _ages_summed(under_3)
    # no children under 3: no caregivers (the NaN of each age summed as zero)
    drivers["spread"] = (under_3 / children.where(children > 0) / per_caregiver).sum("age")
    if new_residents is not None:  # a plan: years it does not list have no new residents
        residents = new_residents.reindex_like(total.isel(draw=0, drop=True), fill_value=0.0)
    else:  # the base year has no previous year, so no increase is defined there
        residents = _population_increase(total).reindex_like(total)
    drivers["increase"] = residents.broadcast_like(total)
    drivers["ages_3_5"] = _ages_summed(population.sel(age=[3, 4, 5]))
    drivers["eligible"] = _ages_summed(population.sel(age=[int(a) for a in
                                                           sub["eligible_ages"]]))
    drivers["age_2"] = population.sel(age=2, drop=True)
    return drivers


def _ages_summed(da: xr.DataArray) -> xr.DataArray:
    """``da`` summed over age, a NaN staying NaN (five times as fast as skipping NaN)."""
    return da.sum("age", skipna=False)


def _basis(standards: dict) -> str:
    """The take-up variant of the childcare gap: ``realised`` or ``willingness``."""
    return standards["childcare_gap_basis"].removeprefix("need_")


def _supplied(supply: xr.Dataset | None, like: xr.DataArray) -> list[str] | None:
    """The regions of ``like`` that have supply, or None if none has."""
    if supply is None:
        return None
    regions = [r for r in like["region"].values if r in supply["region"].values]
    return regions or None


def _held(supply: xr.Dataset, name: str, like: xr.DataArray, units: str) -> xr.DataArray:
    """Supply ``name`` in each year, broadcast like ``like`` (the supplied regions)."""
    level = supply[name].sel(region=like["region"]).reindex(year=like["year"])
    return level.broadcast_like(like).assign_attrs(units=units)


def _places_standard(total: xr.DataArray, standards: dict) -> xr.DataArray:
    """Childcare places the standard asks for: residents x places per 1,000 / 1,000."""
    per_1000, year = _standard(standards["childcare"]["places_per_1000"])
    return _from_year(total * per_1000 / 1000, year, PLACES)


def _need(need: xr.DataArray, variant: str, standards: dict) -> xr.DataArray:
    """The take-up based childcare need ``variant`` (places) from the year it applies."""
    node = standards["childcare"]["take_up"][variant]
    return _from_year(need, int(node["applies_from"]), PLACES)


def _gap(need: xr.DataArray, supply: xr.Dataset, name: str, units: str) -> xr.DataArray:
    """``need`` (of the supplied regions) less the supply ``name``: a shortage positive."""
    return (need - _held(supply, name, need, units)).assign_attrs(units=units)


def _seats_need(ages_3_5: xr.DataArray, standards: dict) -> xr.DataArray:
    """Kindergarten seats needed: children aged 3-5 x the gross enrolment target."""
    target, year_target = _standard(standards["kindergarten"]["enrolment_target"])
    return _from_year(ages_3_5 * target, year_target, SEATS)


def _of_total(total: xr.DataArray, standards: dict, supply) -> dict[str, xr.DataArray]:
    """Indicators of the resident population: the standard's places and, with supply, the
    supply itself, its compliance with the standard and the gaps to it."""
    cc = standards["childcare"]
    out = {}
    per_1000, year = _standard(cc["places_per_1000"])
    out["childcare_places_standard"] = _places_standard(total, standards)
    share, year_share = _standard(cc["affordable_share"])
    out["childcare_places_standard_affordable"] = _from_year(
        out["childcare_places_standard"] * share, max(year, year_share), PLACES)
    regions = _supplied(supply, total)
    if regions is None:
        return out
    here = total.sel(region=regions)
    out["childcare_supply"] = _held(supply, "childcare_places", here, PLACES)
    out["childcare_supply_affordable"] = _held(supply, "childcare_places_affordable", here,
                                               PLACES)
    out["kindergarten_supply"] = _held(supply, "kindergarten_seats", here, SEATS)
    out["childcare_gap_affordable"] = (
        out["childcare_places_standard_affordable"].sel(region=regions)
        - out["childcare_supply_affordable"]).assign_attrs(units=PLACES)
    out["childcare_places_per_1000"] = (out["childcare_supply"] / here * 1000
                                        ).assign_attrs(units="places per 1,000 residents")
    out["childcare_places_per_1000_meets_standard"] = _compliance(
        out["childcare_places_per_1000"], per_1000, year)
    out["childcare_gap_standard"] = (out["childcare_places_standard"].sel(region=regions)
                                     - out["childcare_supply"]).assign_attrs(units=PLACES)
    out["childcare_affordable_share"] = (out["childcare_supply_affordable"]
                                         / out["childcare_supply"]).assign_attrs(units="share")
    out["childcare_affordable_share_meets_standard"] = _compliance(
        out["childcare_affordable_share"], share, year_share)
    return out


def _of_need(variant: str):
    """The indicators of the take-up based need ``variant``: the need and, for the gap
    basis with supply, the childcare gap."""
    def of_need(need: xr.DataArray, standards: dict, supply) -> dict[str, xr.DataArray]:
        name = f"childcare_places_need_{variant}"
        out = {name: _need(need, variant, standards)}
        regions = _supplied(supply, need)
        if variant == _basis(standards) and regions is not None:
            out["childcare_gap"] = _gap(out[name].sel(region=regions), supply,
                                        "childcare_places", PLACES)
        return out
    return of_need


def _of_caregivers_need(caregivers: xr.DataArray, standards: dict, supply
                        ) -> dict[str, xr.DataArray]:
    """Caregivers for the gap basis' need, from the year both the ratios and the take-up
    apply."""
    cc = standards["childcare"]
    year = max(int(cc["children_per_caregiver"]["applies_from"]),
               int(cc["take_up"][_basis(standards)]["applies_from"]))
    return {"childcare_caregivers_need": _from_year(caregivers, year, "persons")}


def _of_increase(residents: xr.DataArray, standards: dict, supply) -> dict[str, xr.DataArray]:
    """Places and floor area for new residents."""
    nr = standards["childcare"]["new_residential"]
    per_1000_new, year_new = _standard(nr["places_per_1000"])
    m2, year_m2 = _standard(nr["m2_per_place"])
    places_new = _from_year(residents * per_1000_new / 1000, year_new, PLACES)
    return {"childcare_places_new_residential": places_new,
            "childcare_floor_area_new_residential": _from_year(
                places_new * m2, year_m2, "m2 usable floor area (使用面积)")}


def _of_ages_3_5(ages_3_5: xr.DataArray, standards: dict, supply) -> dict[str, xr.DataArray]:
    """Kindergarten seats, classes and staff, and with supply the kindergarten gaps."""
    kg = standards["kindergarten"]
    out = {}
    seats = _seats_need(ages_3_5, standards)
    out["kindergarten_seats_need"] = seats
    for part in ("public", "affordable"):
        value, year_part = _standard(kg[f"{part}_share"])
        out[f"kindergarten_seats_need_{part}"] = _from_year(seats * value, year_part, SEATS)
    class_size, year_class = _standard(kg["class_size"])
    classes = _from_year(np.ceil(seats / class_size), year_class, "classes")
    out["kindergarten_classes"] = classes
    for staff in ("teachers", "care_staff"):
        ratio, year_staff = _standard(kg[f"{staff}_per_class"])
        out[f"kindergarten_{staff}"] = _from_year(classes * ratio, year_staff, "persons")
    regions = _supplied(supply, ages_3_5)
    if regions is not None:
        for part in ("public", "affordable"):
            out[f"kindergarten_gap_{part}"] = _gap(
                out[f"kindergarten_seats_need_{part}"].sel(region=regions), supply,
                f"kindergarten_seats_{part}", SEATS)
        out["kindergarten_gap"] = _gap(seats.sel(region=regions), supply, "kindergarten_seats",
                                       SEATS)
    return out


def _of_eligible(eligible: xr.DataArray, standards: dict, supply) -> dict[str, xr.DataArray]:
    """The subsidy's budget."""
    amount, year_amount = _standard(standards["subsidy"]["amount_per_child_per_year"])
    return {"subsidy_budget": _from_year(eligible * amount, year_amount, "CNY per year")}


#: (driver of :func:`demand_drivers`, the function of it giving indicators), each indicator
#: non-decreasing in its driver unless named in :data:`DECREASING`.
DRIVEN_GROUPS = (("total", _of_total), ("need_realised", _of_need("realised")),
                 ("need_willingness", _of_need("willingness")),
                 ("caregivers_need", _of_caregivers_need), ("increase", _of_increase),
                 ("ages_3_5", _of_ages_3_5), ("eligible", _of_eligible))
#: Indicators of :data:`DRIVEN_GROUPS` that do not increase with their driver.
DECREASING = frozenset({"childcare_places_per_1000", "childcare_places_per_1000_meets_standard"})


def joint_indicators(drivers: dict[str, xr.DataArray], standards: dict, supply
                     ) -> dict[str, xr.DataArray]:
    """The indicators of two drivers and the probabilities, from every draw of ``drivers``
    (:func:`demand_drivers`)."""
    cc, kg = standards["childcare"], standards["kindergarten"]
    out = {}
    staff_year = int(cc["children_per_caregiver"]["applies_from"])
    out["childcare_caregivers_standard"] = _from_year(
        _places_standard(drivers["total"], standards) * drivers["spread"], staff_year,
        "persons")
    regions = _supplied(supply, drivers["total"])
    if regions is None:
        return out
    margin = float(standards["surplus_margin"])
    basis = _basis(standards)
    childcare_need = _need(drivers[f"need_{basis}"].sel(region=regions), basis, standards)
    kg_need = _seats_need(drivers["ages_3_5"].sel(region=regions), standards)
    kg_supply = _held(supply, "kindergarten_seats", kg_need, SEATS)
    for kind, need, supplied in (
            ("childcare", childcare_need, _held(supply, "childcare_places", childcare_need,
                                                PLACES)),
            ("kindergarten", kg_need, kg_supply)):
        gap = need - supplied
        defined = gap.notnull().all("draw")
        out[f"prob_{kind}_shortage"] = _probability(gap > 0, defined)
        out[f"prob_{kind}_surplus"] = _probability(supplied - need > margin * need, defined)

    conversion, year_conv = _standard(kg["toddler_conversion"])
    idle = (kg_supply - kg_need).clip(min=0.0)
    rate_2 = float(_take_up(cc["take_up"][basis]).sel(age=2))
    would_use = drivers["age_2"] * rate_2  # children aged 2 who would use a place
    toddlers = np.minimum(idle * conversion, would_use.sel(region=regions))
    out["toddler_places_from_idle_seats"] = _from_year(toddlers, year_conv, PLACES)
    usable = out["toddler_places_from_idle_seats"].fillna(0.0)  # none before conversion applies
    gap = _gap(childcare_need, supply, "childcare_places", PLACES)
    closed = np.minimum(usable, gap.clip(min=0.0))
    out["childcare_gap_after_toddler_classes"] = (gap - closed).assign_attrs(units=PLACES)
    return out


#: Every indicator's name, in the order :func:`demand_indicators` returns them.
INDICATOR_ORDER = (
    "childcare_places_standard", "childcare_places_standard_affordable",
    "childcare_places_need_realised", "childcare_places_need_willingness",
    "childcare_caregivers_need", "childcare_caregivers_standard",
    "childcare_places_new_residential", "childcare_floor_area_new_residential",
    "kindergarten_seats_need", "kindergarten_seats_need_public",
    "kindergarten_seats_need_affordable", "kindergarten_classes", "kindergarten_teachers",
    "kindergarten_care_staff", "subsidy_budget", "childcare_supply",
    "childcare_supply_affordable", "kindergarten_supply", "childcare_gap_affordable",
    "kindergarten_gap_public", "kindergarten_gap_affordable", "childcare_places_per_1000",
    "childcare_places_per_1000_meets_standard", "childcare_gap_standard",
    "childcare_affordable_share", "childcare_affordable_share_meets_standard",
    "childcare_gap", "kindergarten_gap", "prob_childcare_shortage", "prob_childcare_surplus",
    "prob_kindergarten_shortage", "prob_kindergarten_surplus",
    "toddler_places_from_idle_seats", "childcare_gap_after_toddler_classes")


def _population_increase(total: xr.DataArray) -> xr.DataArray:
    """Increase of the resident population from the previous 1 July, where positive."""
    return total.diff("year").clip(min=0.0).assign_attrs(units="persons")
