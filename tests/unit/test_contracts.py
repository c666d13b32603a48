"""The published event contracts stay true and backward compatible."""
import copy
import json

import pytest

from schemas import contract
from schemas.topics import TOPICS


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_generated_schema_is_up_to_date(topic):
    committed = json.loads((contract.GENERATED / f"{topic}.json").read_text())
    assert committed == json.loads(json.dumps(contract.json_schema(topic))), "run `onward schemas` and commit"


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_current_model_is_backward_compatible_with_the_released_schema(topic):
    released = json.loads((contract.RELEASED / f"{topic}.json").read_text())
    assert contract.incompatibilities(released, contract.json_schema(topic)) == []


def test_asyncapi_lists_every_topic_with_its_dlq():
    doc = json.loads((contract.HERE / "asyncapi.json").read_text())
    assert doc == json.loads(json.dumps(contract.asyncapi()))
    assert set(doc["channels"]) == set(TOPICS) and all(c["x-dlq"].endswith(".dlq") for c in doc["channels"].values())


def _leaver_schema() -> dict:
    return copy.deepcopy(contract.json_schema("school-exit.leaver-registered.v1"))


def test_checker_refuses_removed_retyped_and_newly_required_fields_but_allows_new_optional_ones():
    old = _leaver_schema()
    removed = _leaver_schema()
    del removed["properties"]["upn"]
    retyped = _leaver_schema()
    retyped["properties"]["nc_year"] = {"type": "string"}
    required = _leaver_schema()
    required["required"].append("email")
    added = _leaver_schema()
    added["properties"]["pronouns"] = {"type": "string"}
    nested = _leaver_schema()
    nested["$defs"]["Destination"]["properties"]["status"] = {"type": "string"}
    assert contract.incompatibilities(old, removed) == ["upn: removed"]
    assert contract.incompatibilities(old, retyped) == ["nc_year: type changed"]
    assert contract.incompatibilities(old, required) == ["email: newly required"]
    assert contract.incompatibilities(old, added) == []
    assert contract.incompatibilities(old, nested) != []


def test_checker_allows_free_text_to_become_named_values_but_not_the_reverse_or_new_values():
    """CaseStatusChanged.status was any text and is now la_tracker's case statuses (the values it wrote)."""
    text, named = {"properties": {"status": {"type": "string"}}}, {"properties": {"status": {"type": "string",
                                                                                             "enum": ["a", "b"]}}}
    more = {"properties": {"status": {"type": "string", "enum": ["a", "b", "c"]}}}
    assert contract.incompatibilities(text, named) == []
    assert contract.incompatibilities(named, text) == ["status: type changed"]
    assert contract.incompatibilities(named, more) == ["status: type changed"]


def test_the_topic_registry_says_who_consumes_and_produces_what_the_code_does(tmp_path):
    """The ACLs come from PRODUCED_BY/CONSUMED_BY: they must match the workers and the events' producers."""
    import importlib
    import re
    from pathlib import Path

    from onward.settings import Settings
    from schemas.topics import CONSUMED_BY, PRODUCED_BY, TOPICS

    settings = Settings(ONWARD_RUN_DIR=str(tmp_path))
    for service in ("school_exit", "la_tracker", "ncs_referral"):
        app = importlib.import_module(f"services.{service}.worker").build_worker(settings)
        assert sorted(app.onward_topics) == sorted(t for t, readers in CONSUMED_BY.items() if service in readers), service
    for topic in TOPICS:
        assert topic in PRODUCED_BY and topic in CONSUMED_BY, f"{topic} has no producer or consumer in the registry"
    # And each service constructs only events of topics the registry says it produces.
    made_by = re.compile(r"\b([A-Z][A-Za-z]+)\(\s*(?:\*\*_meta|producer=)")
    names = {cls.__name__: topic for topic, cls in TOPICS.items()}
    root = Path(__file__).resolve().parents[2]
    for service in ("school_exit", "la_tracker", "ncs_referral"):
        code = "".join(p.read_text() for p in (root / "services" / service).glob("*.py"))
        made = {names[n] for n in made_by.findall(code) if n in names}
        assert made and made <= {t for t, w in PRODUCED_BY.items() if w == service}, (service, made)
