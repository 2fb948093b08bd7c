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
    cc, kg, sub = standards["childcare"], standards["kindergarten"], standards["subsidy"]
    total = population.sum("age") if total is None else total
    out: dict[str, xr.DataArray] = {}

    per_1000, year = _standard(cc["places_per_1000"])
    out["childcare_places_standard"] = _from_year(total * per_1000 / 1000, year, PLACES)
    share, year_share = _standard(cc["affordable_share"])
    out["childcare_places_standard_affordable"] = _from_year(
        out["childcare_places_standard"] * share, max(year, year_share), PLACES)
    need_by_age = {}
    for variant in ("realised", "willingness"):
        node = cc["take_up"][variant]
        rates = _take_up(node)
        need_by_age[variant] = population.sel(age=rates["age"]) * rates
        out[f"childcare_places_need_{variant}"] = _from_year(
            need_by_age[variant].sum("age"), int(node["applies_from"]), PLACES)
    basis = standards["childcare_gap_basis"].removeprefix("need_")
    staff = cc["children_per_caregiver"]
    per_caregiver = _by_age(staff["by_age"])
    staff_year = max(int(staff["applies_from"]), int(cc["take_up"][basis]["applies_from"]))
    out["childcare_caregivers_need"] = _from_year(
        (need_by_age[basis] / per_caregiver).sum("age"), staff_year, "persons")
    under_3 = population.sel(age=per_caregiver["age"])
    spread = (under_3 / under_3.sum("age").where(under_3.sum("age") > 0) / per_caregiver
              ).sum("age")
    out["childcare_caregivers_standard"] = _from_year(
        out["childcare_places_standard"] * spread, int(staff["applies_from"]), "persons")

    if new_residents is not None:  # a plan: years it does not list have no new residents
        residents = new_residents.reindex_like(total.isel(draw=0, drop=True), fill_value=0.0)
    else:  # the base year has no previous year, so no increase is defined there
        residents = _population_increase(total).reindex_like(total)
    nr = cc["new_residential"]
    per_1000_new, year_new = _standard(nr["places_per_1000"])
    m2, year_m2 = _standard(nr["m2_per_place"])
    places_new = _from_year((residents * per_1000_new / 1000).broadcast_like(total), year_new,
                            PLACES)
    out["childcare_places_new_residential"] = places_new
    out["childcare_floor_area_new_residential"] = _from_year(places_new * m2, year_m2,
                                                             "m2 usable floor area (使用面积)")

    ages_3_5 = population.sel(age=[3, 4, 5]).sum("age")
    target, year_target = _standard(kg["enrolment_target"])
    seats = _from_year(ages_3_5 * target, year_target, SEATS)
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

    eligible = population.sel(age=[int(a) for a in sub["eligible_ages"]]).sum("age")
    amount, year_amount = _standard(sub["amount_per_child_per_year"])
    out["subsidy_budget"] = _from_year(eligible * amount, year_amount, "CNY per year")

    if supply is not None:
        toddlers = (population.sel(age=2, drop=True)
                    * float(_by_age(cc["take_up"][basis]["rates"]).sel(age=2)))
        out.update(_supply_and_gaps(out, total, toddlers, standards, supply))
    return out


def _population_increase(total: xr.DataArray) -> xr.DataArray:
    """Increase of the resident population from the previous 1 July, where positive."""
    return total.diff("year").clip(min=0.0).assign_attrs(units="persons")


def _supply_and_gaps(out, total, toddlers, standards, supply) -> dict[str, xr.DataArray]:
    """Supply in each year (NaN where none), gaps, coverage, probabilities, toddler classes."""
    regions = [r for r in total["region"].values if r in supply["region"].values]
    if not regions:
        return {}
    sel = {"region": regions}
    kg = standards["kindergarten"]
    margin = float(standards["surplus_margin"])
    res = {}

    def held(name, units):
        level = supply[name].sel(sel).reindex(year=total["year"])
        return level.broadcast_like(total.sel(sel)).assign_attrs(units=units)

    res["childcare_supply"] = held("childcare_places", PLACES)
    res["childcare_supply_affordable"] = held("childcare_places_affordable", PLACES)
    res["kindergarten_supply"] = held("kindergarten_seats", SEATS)
    res["childcare_gap_affordable"] = (out["childcare_places_standard_affordable"].sel(sel)
                                       - res["childcare_supply_affordable"]).assign_attrs(units=PLACES)
    for part in ("public", "affordable"):
        supplied = held(f"kindergarten_seats_{part}", SEATS)
        res[f"kindergarten_gap_{part}"] = (out[f"kindergarten_seats_need_{part}"].sel(sel)
                                           - supplied).assign_attrs(units=SEATS)
    res["childcare_places_per_1000"] = (res["childcare_supply"] / total.sel(sel) * 1000
                                        ).assign_attrs(units="places per 1,000 residents")
    cc = standards["childcare"]
    per_1000, year = _standard(cc["places_per_1000"])
    res["childcare_places_per_1000_meets_standard"] = _compliance(
        res["childcare_places_per_1000"], per_1000, year)
    res["childcare_gap_standard"] = (out["childcare_places_standard"].sel(sel)
                                     - res["childcare_supply"]).assign_attrs(units=PLACES)
    res["childcare_affordable_share"] = (res["childcare_supply_affordable"]
                                         / res["childcare_supply"]).assign_attrs(units="share")
    share, year_share = _standard(cc["affordable_share"])
    res["childcare_affordable_share_meets_standard"] = _compliance(
        res["childcare_affordable_share"], share, year_share)
    childcare_need = out[f"childcare_places_{standards['childcare_gap_basis']}"].sel(sel)
    kg_need = out["kindergarten_seats_need"].sel(sel)
    res["childcare_gap"] = (childcare_need - res["childcare_supply"]).assign_attrs(units=PLACES)
    res["kindergarten_gap"] = (kg_need - res["kindergarten_supply"]).assign_attrs(units=SEATS)
    for kind, need, supplied in (("childcare", childcare_need, res["childcare_supply"]),
                                 ("kindergarten", kg_need, res["kindergarten_supply"])):
        gap = need - supplied
        defined = gap.notnull().all("draw")
        res[f"prob_{kind}_shortage"] = _probability(gap > 0, defined)
        res[f"prob_{kind}_surplus"] = _probability(supplied - need > margin * need, defined)

    conversion, year_conv = _standard(kg["toddler_conversion"])
    idle = (res["kindergarten_supply"] - kg_need).clip(min=0.0)
    toddlers = np.minimum(idle * conversion, toddlers.sel(sel))
    res["toddler_places_from_idle_seats"] = _from_year(toddlers, year_conv, PLACES)
    usable = res["toddler_places_from_idle_seats"].fillna(0.0)  # none before conversion applies
    closed = np.minimum(usable, res["childcare_gap"].clip(min=0.0))
    res["childcare_gap_after_toddler_classes"] = (res["childcare_gap"] - closed).assign_attrs(
        units=PLACES)
    return res
