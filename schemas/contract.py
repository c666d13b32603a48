"""Published contracts: JSON Schema per topic and an AsyncAPI document, generated from the models, and
the backward-compatibility rule a new model must keep against the released schema of its topic.

`onward schemas` writes schemas/json/*.json and schemas/asyncapi.json. schemas/released/ holds the
schemas as first released: never edited, only added to when a topic is first released.
"""
from __future__ import annotations

import json
from pathlib import Path

from schemas.topics import TOPICS, dlq_topic

HERE = Path(__file__).parent
GENERATED, RELEASED = HERE / "json", HERE / "released"


def json_schema(topic: str) -> dict:
    return TOPICS[topic].model_json_schema(mode="serialization")


def asyncapi() -> dict:
    messages = {m.__name__: {"name": m.__name__, "contentType": "application/json",
                             "payload": {"$ref": f"json/{t}.json"},
                             "description": (m.__doc__ or "").strip().split("\n")[0]} for t, m in TOPICS.items()}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Onward events", "version": "1.0.0",
                 "description": "Leaver and destination events between school_exit, la_tracker and ncs_referral. "
                                "Key: person_key (HMAC of the UPN). Headers: event_type, event_id, correlation_id. "
                                "A record that cannot be processed goes to <topic>.dlq with dlq.reason."},
        "channels": {t: {"address": t, "messages": {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"}},
                         "x-dlq": dlq_topic(t)} for t, m in TOPICS.items()},
        "components": {"messages": messages},
    }


def write() -> list[Path]:
    GENERATED.mkdir(exist_ok=True)
    paths = []
    for topic in TOPICS:
        path = GENERATED / f"{topic}.json"
        path.write_text(json.dumps(json_schema(topic), indent=2, sort_keys=True) + "\n")
        paths.append(path)
    (HERE / "asyncapi.json").write_text(json.dumps(asyncapi(), indent=2) + "\n")
    return paths + [HERE / "asyncapi.json"]


def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def _shape(node: dict, defs: dict) -> tuple:
    node = _resolve(node, defs)
    if "anyOf" in node:
        return ("anyOf", tuple(sorted(map(str, (_shape(n, defs) for n in node["anyOf"])))))
    return (node.get("type"), node.get("format"), node.get("const"), tuple(node.get("enum", ())),
            _shape(node["items"], defs) if isinstance(node.get("items"), dict) else None)


def _named_values(old: dict, new: dict) -> bool:
    """Free text that becomes a fixed list of text values (a status the producer only ever wrote from
    that list, now named in the contract): every value a reader of the released contract accepts."""
    return (old.get("type") == new.get("type") == "string" and not {"enum", "const", "format", "pattern"} & set(old)
            and bool(new.get("enum")) and all(isinstance(v, str) for v in new["enum"]))


def incompatibilities(old: dict, new: dict, path: str = "") -> list[str]:
    """Why `new` cannot replace `old` for readers and writers of the topic: removed or retyped fields,
    newly required fields. Adding optional fields is compatible (readers ignore unknown fields)."""
    problems = []
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})

    def walk(o: dict, n: dict, where: str) -> None:
        o, n = _resolve(o, old_defs), _resolve(n, new_defs)
        for name in set(n.get("required", [])) - set(o.get("required", [])):
            problems.append(f"{where}{name}: newly required")
        for name, prop in o.get("properties", {}).items():
            if name not in n.get("properties", {}):
                problems.append(f"{where}{name}: removed")
                continue
            compare(prop, n["properties"][name], f"{where}{name}")

    def compare(o: dict, n: dict, where: str) -> None:
        ro, rn = _resolve(o, old_defs), _resolve(n, new_defs)
        if "properties" in ro and "properties" in rn:
            walk(ro, rn, f"{where}.")
        elif "anyOf" in ro and "anyOf" in rn and len(ro["anyOf"]) == len(rn["anyOf"]):  # e.g. an optional object
            for a, b in zip(ro["anyOf"], rn["anyOf"]):
                compare(a, b, where)
        elif _shape(o, old_defs) != _shape(n, new_defs) and not _named_values(ro, rn):
            problems.append(f"{where}: type changed")

    walk(old, new, path)
    return problems
