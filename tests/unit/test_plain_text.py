"""Control characters in any text field are refused by field name; notes may keep tab and newlines."""
import pytest
from pydantic import ValidationError

from services.la_tracker.wire import ContactIn
from services.school_exit.wire import LeaverIn
from tests.e2e.leavers import leaver


@pytest.mark.parametrize("field, value", [
    ("given_name", "Am\x00ira"), ("family_name", "Khan\x1b[2J"), ("address_lines", ["1 Example\x07 Street"]),
    ("home_postcode", "DE1\x002AA"), ("upn", "H801200001001\x00"), ("email", "a\x00@example.org"),
])
def test_a_control_character_in_a_leaver_field_is_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        LeaverIn.model_validate(leaver(**{field: value}))
    assert [e["loc"][0] for e in exc.value.errors()] == [field]
    assert "\x00" not in str(exc.value.errors()[0]["msg"])


def test_a_control_character_in_a_nested_field_names_the_nested_field():
    with pytest.raises(ValidationError) as exc:
        LeaverIn.model_validate(leaver(destination={"activity_code": "230\x00", "status": "intended"}))
    assert exc.value.errors()[0]["loc"][:2] == ("destination", "activity_code")


def test_a_note_keeps_tab_and_newlines_but_not_nul():
    assert ContactIn(method="phone", outcome="reached", note="Rang twice\n\tthen reached").note
    with pytest.raises(ValidationError) as exc:
        ContactIn(method="phone", outcome="reached", note="Rang\x00")
    assert exc.value.errors()[0]["loc"] == ("note",)


def test_an_la_case_note_and_the_handoff_words_keep_tab_and_newlines_but_not_nul():
    from services.la_tracker.casework_wire import HandoffIn, NoteIn

    assert NoteIn(text="Rang twice\n\tthen reached\r\nby text").text.startswith("Rang")
    assert HandoffIn(wants="College\nor an apprenticeship", contact_notes="Mobile\tafter 4pm\n").wants
    for bad in (lambda: NoteIn(text="Rang\x00"), lambda: HandoffIn(contact_notes="Mobile\x1b[2J")):
        with pytest.raises(ValidationError) as exc:
            bad()
        assert exc.value.errors()[0]["loc"][0] in ("text", "contact_notes")
