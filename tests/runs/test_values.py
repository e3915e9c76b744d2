"""Checking run parameter values against harvested workflow descriptions, before anything executes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvesters.notebooks import harvest
from kg.runs.values import InvalidValues, canonical_values, resolve_values
from kg.store import open_store
from kg.workflows import show_workflow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MMODA_NOTEBOOKS = EXAMPLES / "mmoda-repo" / "notebooks"


@pytest.fixture(scope="module")
def described() -> dict[str, dict]:
    """The real descriptions of the example notebooks, as `kg workflow show` gives them."""
    store = open_store("memory:")
    harvest([EXAMPLES], store)
    names = ("lightcurve", "photometry_band", "image_cutout", "flux_ratio")
    return {name: show_workflow(store, name) for name in names}


def resolve(workflow: dict, notebook_dir: Path = EXAMPLES, **given: object) -> dict[str, object]:
    return resolve_values(workflow, given, notebook_dir=notebook_dir)


def problems_of(workflow: dict, notebook_dir: Path = EXAMPLES, **given: object) -> list[str]:
    with pytest.raises(InvalidValues) as raised:
        resolve(workflow, notebook_dir, **given)
    return raised.value.problems


def parameter(name: str, **fields: object) -> dict:
    """A parameter as `show_workflow` describes it; unset fields as for an unannotated one."""
    return {
        "name": name,
        "types": [],
        "datatype": None,
        "default": None,
        "lower_limit": None,
        "upper_limit": None,
        "allowed_values": [],
        "unit": None,
        "format": None,
        "common_name": None,
        "optional": False,
    } | fields


def workflow(*parameters: dict) -> dict:
    return {"name": "handmade", "parameters": [p | {"position": i} for i, p in enumerate(parameters)]}


# -- what a run gets ---------------------------------------------------------------------


def test_no_values_gives_every_default_in_parameter_order_with_paths_absolute(described):
    values = resolve(described["lightcurve"])
    assert values == {
        "src_name": "Mrk 421",
        "RA": 166.113808,
        "DEC": 38.208833,
        "T1": "2022-01-01T00:00:00",
        "T2": "2022-01-31T00:00:00",
        "nbins": 20,
        "extraction_radius": 0.3,
        "events_file": str(EXAMPLES / "data" / "events.fits"),
        "events_url": "",
    }
    assert list(values) == [p["name"] for p in described["lightcurve"]["parameters"]]


def test_cli_strings_are_cast_to_the_declared_datatypes(described):
    values = resolve(described["lightcurve"], nbins="30", RA="12.5", src_name="Crab")
    assert (values["nbins"], values["RA"], values["src_name"]) == (30, 12.5, "Crab")
    assert type(values["nbins"]) is int


def test_an_int_is_a_float_and_ends_up_one(described):
    values = resolve(described["lightcurve"], RA=12)
    assert values["RA"] == 12.0
    assert type(values["RA"]) is float


@pytest.mark.parametrize("given", [30.0, "30.0", "1e1"])
def test_integral_floats_are_integers(described, given):
    expected = 10 if given == "1e1" else 30
    values = resolve(described["lightcurve"], nbins=given)
    assert values["nbins"] == expected
    assert type(values["nbins"]) is int


def test_numbers_however_typed_give_the_same_canonical_values(described):
    spellings = [1, 1.0, "1", "1.0", " 1 "]
    keys = {canonical_values(resolve(described["lightcurve"], extraction_radius=s)) for s in spellings}
    assert len(keys) == 1
    assert '"extraction_radius":1.0' in keys.pop()


def test_limits_are_inclusive(described):
    assert resolve(described["lightcurve"], nbins=1)["nbins"] == 1
    assert resolve(described["lightcurve"], nbins="100")["nbins"] == 100


def test_allowed_values_are_accepted(described):
    assert resolve(described["photometry_band"], band="r")["band"] == "r"


def test_allowed_values_are_compared_after_casting():
    wf = workflow(parameter("order", datatype="xsd:integer", default=1, allowed_values=[1, 2, 4]))
    assert resolve(wf, order="4") == {"order": 4}


def test_booleans_from_text():
    wf = workflow(parameter("verbose", datatype="xsd:boolean", default=False))
    for text, expected in [("true", True), ("Yes", True), ("1", True), ("FALSE", False), ("no", False)]:
        assert resolve(wf, verbose=text) == {"verbose": expected}
    assert resolve(wf, verbose=True) == {"verbose": True}


def test_an_optional_parameter_may_be_given_no_value(described):
    assert resolve(described["photometry_band"])["threshold"] is None
    for nothing in (None, "None", "null"):
        assert resolve(described["photometry_band"], threshold=nothing)["threshold"] is None
    assert resolve(described["photometry_band"], threshold="2.5")["threshold"] == 2.5


def test_the_text_none_is_an_ordinary_string_for_a_required_parameter(described):
    assert resolve(described["lightcurve"], src_name="None")["src_name"] == "None"


def test_common_names_reach_the_notebooks_own_variable(described):
    values = resolve(described["photometry_band"], T1="60100", src_name="SN 2024ggi")
    assert values["T0"] == 60100.0
    assert values["src_name"] == "SN 2024ggi"
    assert "T1" not in values


def test_a_notebooks_own_name_wins_over_a_common_name():
    wf = workflow(
        parameter("T1", datatype="xsd:float", default=1.0),
        parameter("start", datatype="xsd:float", default=2.0, common_name="T1"),
    )
    assert resolve(wf, T1="5") == {"T1": 5.0, "start": 2.0}


def test_structured_defaults_take_json(described):
    values = resolve(
        described["photometry_band"], aperture='{"radius_arcsec": 2.0, "annulus_arcsec": [4, 8]}'
    )
    assert values["aperture"] == {"radius_arcsec": 2.0, "annulus_arcsec": [4, 8]}
    assert resolve(described["photometry_band"], aperture={"radius_arcsec": 1.0})["aperture"] == {
        "radius_arcsec": 1.0
    }


def test_a_parameter_without_datatype_gets_its_value_as_given():
    wf = workflow(parameter("anything", optional=True))
    assert resolve(wf, anything="30") == {"anything": "30"}


def test_given_paths_are_made_absolute(described, tmp_path):
    values = resolve(described["lightcurve"], events_file="data/../data/events.fits")
    assert values["events_file"] == str(EXAMPLES / "data" / "events.fits")
    elsewhere = tmp_path / "my events.fits"
    elsewhere.write_bytes(b"")
    assert resolve(described["lightcurve"], events_file=str(elsewhere))["events_file"] == str(elsewhere)


def test_a_relative_path_is_read_from_the_notebooks_directory_not_the_working_directory(
    described, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert resolve(described["lightcurve"])["events_file"] == str(EXAMPLES / "data" / "events.fits")


@pytest.mark.parametrize("url", ["https://data.example.org/events.fits", "file:///srv/data/events.fits"])
def test_file_urls_pass_when_the_platform_allows_fetching(described, url):
    values = resolve_values(
        described["lightcurve"], {"events_url": url}, notebook_dir=EXAMPLES, allow_file_urls=True
    )
    assert values["events_url"] == url


def test_end_time_after_start_time_in_mjd(described):
    values = resolve(described["flux_ratio"], MMODA_NOTEBOOKS, T1="60010", T2=60020)
    assert (values["T1"], values["T2"]) == (60010.0, 60020.0)


# -- what is refused, and how it is said ---------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"nbins": "ten"}, "nbins = 'ten' is not an integer (xsd:integer)"),
        ({"nbins": 2.5}, "nbins = 2.5 is not an integer (xsd:integer)"),
        ({"nbins": "2.5"}, "nbins = '2.5' is not an integer (xsd:integer)"),
        ({"nbins": True}, "nbins = True is not an integer (xsd:integer)"),
        ({"RA": "east"}, "RA = 'east' is not a finite number (xsd:float)"),
        ({"RA": "nan"}, "RA = 'nan' is not a finite number (xsd:float)"),
        ({"RA": False}, "RA = False is not a finite number (xsd:float)"),
        ({"RA": [12.5]}, "RA = [12.5] is not a finite number (xsd:float)"),
        ({"src_name": 421}, "src_name = 421 is not a string (xsd:string)"),
    ],
    ids=[
        "word",
        "fraction",
        "fraction-text",
        "bool-int",
        "word-float",
        "nan",
        "bool-float",
        "list",
        "number",
    ],
)
def test_a_value_of_the_wrong_type(described, given, message):
    assert problems_of(described["lightcurve"], **given) == [message]


def test_a_boolean_that_is_not_one():
    wf = workflow(parameter("verbose", datatype="xsd:boolean", default=False))
    assert problems_of(wf, verbose="maybe") == [
        "verbose = 'maybe' is not a boolean (true/false, yes/no, 1/0) (xsd:boolean)"
    ]


def test_above_the_upper_limit(described):
    assert problems_of(described["lightcurve"], nbins=300) == ["nbins = 300 is above the upper limit 100"]


def test_below_the_lower_limit(described):
    assert problems_of(described["lightcurve"], nbins="0") == ["nbins = 0 is below the lower limit 1"]


def test_a_limit_message_names_the_unit(described):
    assert problems_of(described["lightcurve"], extraction_radius="5") == [
        "extraction_radius = 5.0 is above the upper limit 1 (unit:Degree)"
    ]


def test_not_an_allowed_value(described):
    assert problems_of(described["photometry_band"], band="v") == [
        "band = 'v' is not one of the allowed values 'b', 'g', 'r'"
    ]


def test_a_required_parameter_without_default():
    wf = workflow(parameter("radius", datatype="xsd:float"), parameter("flag", optional=True))
    assert problems_of(wf) == ["radius is required (it has no default)"]


def test_none_for_a_parameter_that_is_not_optional(described):
    assert problems_of(described["lightcurve"], nbins=None) == ["nbins cannot be None: it is not optional"]


def test_an_unknown_name_lists_the_parameters(described):
    assert problems_of(described["photometry_band"], colour="red") == [
        "colour: no such parameter; the parameters are src_name, band, T0 (or T1), duration, time_bin, "
        "threshold, aperture, archive_query"
    ]


def test_an_unknown_name_suggests_a_close_one(described):
    (problem,) = problems_of(described["lightcurve"], nbin=10)
    assert problem.startswith(
        "nbin: no such parameter (did you mean nbins?); the parameters are src_name, RA"
    )


def test_a_parameter_given_both_by_its_own_and_its_common_name(described):
    assert problems_of(described["photometry_band"], T0=60100, T1=60200) == [
        "T0 is given twice: as T0 and as T1"
    ]


def test_a_common_name_two_parameters_stand_for():
    wf = workflow(
        parameter("start", datatype="xsd:float", default=1.0, common_name="T1"),
        parameter("t_ref", datatype="xsd:float", default=2.0, common_name="T1"),
    )
    assert problems_of(wf, T1=3) == ["T1 is ambiguous: it stands for start, t_ref; give one of those names"]


def test_a_structured_parameter_given_something_else(described):
    assert problems_of(described["photometry_band"], aperture="radius 3", archive_query=None) == [
        "aperture = 'radius 3' is not a JSON object like the default",
        "archive_query cannot be None: it is not optional",
    ]
    assert problems_of(described["flux_ratio"], MMODA_NOTEBOOKS, energy_bands_keV={"low": 3}) == [
        "energy_bands_keV = {'low': 3} is not a JSON array like the default"
    ]


def test_a_missing_file(described):
    missing = EXAMPLES / "data" / "flare.fits"
    assert problems_of(described["lightcurve"], events_file="data/flare.fits") == [
        f"events_file = 'data/flare.fits': no such file or directory {missing}; "
        "relative paths are read from the notebook's directory"
    ]


def test_a_default_path_missing_from_the_notebooks_directory(described, tmp_path):
    assert problems_of(described["lightcurve"], tmp_path) == [
        f"events_file = 'data/events.fits' (the default): no such file or directory "
        f"{tmp_path / 'data' / 'events.fits'}; relative paths are read from the notebook's directory"
    ]


def test_a_file_url_when_the_platform_does_not_fetch(described):
    assert problems_of(described["lightcurve"], events_url="https://data.example.org/events.fits") == [
        "events_url = 'https://data.example.org/events.fits': this platform does not fetch files from URLs "
        "(set KG_ALLOW_FILE_URLS=1 or pass --allow-file-urls to allow it)"
    ]


@pytest.mark.parametrize(
    "url", ["data/events.fits", "mailto:me@example.org", "https://", "file:", "http://[::1"]
)
def test_a_file_url_that_is_no_url(described, url):
    with pytest.raises(InvalidValues) as raised:
        resolve_values(
            described["lightcurve"], {"events_url": url}, notebook_dir=EXAMPLES, allow_file_urls=True
        )
    assert raised.value.problems == [f"events_url = {url!r} is not an http(s), ftp or file URL"]


def test_a_time_that_is_not_isot(described):
    assert problems_of(described["lightcurve"], T1="2022-13-01") == [
        "T1 = '2022-13-01' is not an ISOT time like 2022-01-01T00:00:00"
    ]


def test_a_time_that_is_not_mjd():
    wf = workflow(parameter("t0", datatype="xsd:string", default="60000", format="oda:MJD"))
    assert problems_of(wf, t0="yesterday") == ["t0 = 'yesterday' is not an MJD (days) like 60000.5"]


def test_an_end_time_before_the_start_time(described):
    assert problems_of(described["lightcurve"], T2="2021-12-31T23:59:59") == [
        "T2 = '2021-12-31T23:59:59' is not after T1 = '2022-01-01T00:00:00' (the default): "
        "the end time must be after the start time"
    ]


def test_an_end_time_equal_to_the_start_time_in_mjd(described):
    assert problems_of(described["flux_ratio"], MMODA_NOTEBOOKS, T1=60001) == [
        "T2 = 60001.0 (the default) is not after T1 = 60001.0: the end time must be after the start time"
    ]


def test_start_and_end_in_different_formats_are_compared_as_instants():
    noon = "2023-02-25T12:00:00"  # MJD 60000.5
    wf = workflow(
        parameter("start", datatype="xsd:string", default=noon, format="oda:ISOT", common_name="T1"),
        parameter("stop", datatype="xsd:float", default=60001.0, format="oda:MJD", common_name="T2"),
    )
    assert resolve(wf, stop=60000.75) == {"start": noon, "stop": 60000.75}
    assert problems_of(wf, stop="60000.25") == [
        f"stop = 60000.25 is not after start = '{noon}' (the default): "
        "the end time must be after the start time"
    ]


def test_every_problem_is_reported_at_once(described):
    with pytest.raises(InvalidValues) as raised:
        resolve(
            described["lightcurve"],
            colour="red",
            nbins=300,
            extraction_radius="5",
            T1="soon",
            events_url="ftp://archive.example.org/events.fits",
        )
    assert str(raised.value) == (
        "invalid values for lightcurve:\n"
        "  - colour: no such parameter; the parameters are src_name, RA, DEC, T1, T2, nbins, "
        "extraction_radius, events_file, events_url\n"
        "  - T1 = 'soon' is not an ISOT time like 2022-01-01T00:00:00\n"
        "  - nbins = 300 is above the upper limit 100\n"
        "  - extraction_radius = 5.0 is above the upper limit 1 (unit:Degree)\n"
        "  - events_url = 'ftp://archive.example.org/events.fits': "
        "this platform does not fetch files from URLs "
        "(set KG_ALLOW_FILE_URLS=1 or pass --allow-file-urls to allow it)"
    )
    assert len(raised.value.problems) == 5
    assert isinstance(raised.value, ValueError)


# -- canonical values ----------------------------------------------------------------------


def test_canonical_values_sort_keys_at_every_level_and_drop_whitespace():
    text = canonical_values({"b": 0.1, "a": {"z": [1, 2.5], "y": "Mrk 421"}, "c": None, "d": True})
    assert text == '{"a":{"y":"Mrk 421","z":[1,2.5]},"b":0.1,"c":null,"d":true}'
    assert json.loads(text) == {"b": 0.1, "a": {"z": [1, 2.5], "y": "Mrk 421"}, "c": None, "d": True}


def test_canonical_values_do_not_depend_on_the_order_values_were_given(described):
    first = resolve(described["lightcurve"], nbins="30", RA="12.5")
    second = resolve(described["lightcurve"], RA=12.5, nbins=30)
    assert canonical_values(first) == canonical_values(second)
    assert canonical_values(first) != canonical_values(resolve(described["lightcurve"], nbins=31, RA=12.5))


def test_canonical_values_keep_floats_exact():
    value = 0.1 + 0.2
    assert json.loads(canonical_values({"x": value}))["x"] == value
