"""The form's enumerations and their JSON payload."""

import msgspec
import pytest

from engine.accounts import options

PAYLOAD_FIELDS = [
    "id_type",
    "gender",
    "ethnicity",
    "title_status",
    "title_level",
    "professional_title",
    "education",
    "political_status",
]


def test_ethnicities_are_the_56_with_codes_01_to_56() -> None:
    assert list(options.ETHNICITIES) == [f"{code:02d}" for code in range(1, 57)]


def test_ethnicity_labels_are_unique_nationalities() -> None:
    labels = list(options.ETHNICITIES.values())
    assert len(set(labels)) == 56
    assert all(label.endswith("族") for label in labels)
    assert (labels[0], labels[-1]) == ("汉族", "基诺族")


@pytest.mark.parametrize(
    ("code", "label"),
    [
        pytest.param("01", "汉族", id="han"),
        pytest.param("02", "蒙古族", id="mongol"),
        pytest.param("05", "维吾尔族", id="uyghur"),
        pytest.param("23", "高山族", id="gaoshan"),
        pytest.param("44", "俄罗斯族", id="russian"),
        pytest.param("56", "基诺族", id="jino"),
    ],
)
def test_ethnicity_codes_follow_gb_t_3304(code: str, label: str) -> None:
    assert options.ETHNICITIES[code] == label


def test_political_statuses_follow_gb_t_4762() -> None:
    assert options.POLITICAL_STATUSES["01"] == "中共党员"
    assert options.POLITICAL_STATUSES["13"] == "群众"
    assert len(options.POLITICAL_STATUSES) == 13


def test_payload_lists_the_form_fields_in_order() -> None:
    assert list(options.options_payload()) == PAYLOAD_FIELDS


@pytest.mark.parametrize("field", PAYLOAD_FIELDS)
def test_payload_entries_are_value_and_label(field: str) -> None:
    entries = options.options_payload()[field]
    assert entries, field
    for entry in entries:
        assert set(entry) == {"value", "label"}
        assert isinstance(entry["value"], str)
        assert entry["value"]
        assert isinstance(entry["label"], str)
        assert entry["label"]
    values = [entry["value"] for entry in entries]
    assert len(set(values)) == len(values)
    assert {entry["value"]: entry["label"] for entry in entries} == dict(
        options.FORM_OPTIONS[field]
    )


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        pytest.param("id_type", "id_card", "身份证", id="id-card"),
        pytest.param("id_type", "taiwan_permit", "台湾居民来往大陆通行证", id="taiwan-permit"),
        pytest.param("gender", "female", "女", id="female"),
        pytest.param("ethnicity", "56", "基诺族", id="ethnicity"),
        pytest.param("title_status", "not_obtained", "未取得", id="title-status"),
        pytest.param("title_level", "none", "无", id="title-level-none"),
        pytest.param("professional_title", "工程师", "工程师", id="professional-title"),
        pytest.param("education", "bachelor", "大学本科", id="education"),
        pytest.param("political_status", "03", "共青团员", id="political-status"),
    ],
)
def test_payload_contains(field: str, value: str, label: str) -> None:
    assert {"value": value, "label": label} in options.options_payload()[field]


def test_payload_round_trips_through_json() -> None:
    payload = options.options_payload()
    assert msgspec.json.decode(msgspec.json.encode(payload)) == payload


def test_choices_are_read_only() -> None:
    with pytest.raises(TypeError):
        options.GENDERS["other"] = "其他"  # type: ignore[index]
