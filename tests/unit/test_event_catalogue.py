"""docs/events.md documents every event type and payload field the code can emit."""

import re
from pathlib import Path

from phasma.events.catalogue import CATALOGUE

DOCS = (Path(__file__).parents[2] / "docs" / "events.md").read_text()


def test_every_event_type_is_documented_with_its_topic_and_fields() -> None:
    for event_type, (topic, model) in CATALOGUE.items():
        heading = rf"### [^\n]*`{re.escape(event_type)}`[^\n]*\n"
        section = re.search(rf"{heading}(.*?)(?=\n### |\Z)", DOCS, re.S)
        assert section, f"{event_type} is missing from docs/events.md"
        text = section.group(1)
        assert f"Topic `{topic}`" in text
        for field in model.model_json_schema(by_alias=True)["properties"]:
            assert f"| `{field}` |" in text, f"{event_type}.{field} is undocumented"
