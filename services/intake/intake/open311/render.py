"""Open311 answers in the two formats the spec names: JSON, and XML (the required one) with the
spec's element names. Data arrives already mapped (strings, numbers, booleans, None, lists,
dicts); a list is written as repeated elements named after its container (`services` holds
`service` elements, `attributes` holds `attribute`, ...)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Literal

from starlette.responses import Response

Format = Literal["json", "xml"]
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

# A container element and the name of each of its items.
ITEMS = {
    "services": "service", "attributes": "attribute", "values": "value",
    "endpoints": "endpoint", "formats": "format", "service_requests": "request",
    "service_request_updates": "request_update", "errors": "error",
}


def fmt_of(name: str) -> tuple[str, Format | None]:
    """`requests.xml` -> ("requests", "xml"); no known suffix -> (name, None)."""
    for suffix in ("json", "xml"):
        if name.endswith("." + suffix):
            return name[:-len(suffix) - 1], suffix  # type: ignore[return-value]
    return name, None


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_xml(root: str, data: Any) -> bytes:
    """The document: `root` holding `data` (a list of items or a dict of fields). None is left
    out (an empty element would read as a hash, not a missing value, to XML::Simple clients)."""
    element = ET.Element(root)
    _fill(element, root, data)
    return ET.tostring(element, encoding="UTF-8", xml_declaration=True)


def _fill(element: ET.Element, name: str, data: Any) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            if value is not None:
                _fill(ET.SubElement(element, key), key, value)
    elif isinstance(data, (list, tuple)):
        item = ITEMS[name]
        for value in data:
            _fill(ET.SubElement(element, item), item, value)
    else:
        element.text = text(data)


def render(fmt: Format, root: str, data: Any, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, data), status_code=status, media_type=XML_TYPE,
                        headers=headers)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)
