"""The messages the mailer sends: a plain-text and an HTML part from Jinja templates.

Templates live beside this module (`templates/<kind>.txt` and `<kind>.html`, the HTML
extending `layout.html` in the site's colours), so the function image carries them
with the package.
"""

from __future__ import annotations

import functools
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

Kind = Literal["verify", "reset", "email_changed_notice", "export_ready"]

SUBJECTS: dict[Kind, str] = {
    "verify": "Confirm your email address",
    "reset": "Reset your Phasma password",
    "email_changed_notice": "Your Phasma email address was changed",
    "export_ready": "Your Phasma data export is ready",
}
TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(
    kind: Kind,
    *,
    sender: str,
    recipient: str,
    name: str,
    username: str,
    site_url: str,
    link: str | None,
) -> EmailMessage:
    """The whole message: headers, a text part and an HTML alternative."""
    values = {
        "name": name,
        "username": username,
        "site_url": site_url.rstrip("/"),
        "link": link,
        "subject": SUBJECTS[kind],
    }
    environment = _environment()
    message = EmailMessage()
    message["Subject"] = SUBJECTS[kind]
    message["From"] = sender
    message["To"] = recipient
    message["Message-ID"] = make_msgid(domain="phasma")
    message.set_content(environment.get_template(f"{kind}.txt").render(values))
    message.add_alternative(environment.get_template(f"{kind}.html").render(values), subtype="html")
    return message
