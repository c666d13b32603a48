"""The young person's questions as pages: titles and choices, checks of what they typed (GOV.UK error
messages), and the pages for a link that does not work, an ended visit and too many tries."""
from __future__ import annotations

from datetime import date, timedelta

from fastapi import Request
from fastapi.responses import Response

from onward import web
from schemas.text import has_control_character

WHERE_TITLES = {  # answer -> (question, provider label)
    "studying": ("Where are you studying?", "Name of your school, college or university"),
    "apprenticeship": ("Where is your apprenticeship?", "Name of your employer or training provider"),
    "job": ("Where do you work?", "Name of your employer"),
    "training": ("Where are you training?", "Name of your training provider"),
}
WORDS_TITLES = {  # answer -> (question, hint)
    "looking": ("What kind of work or training are you looking for?", "You can leave this empty."),
    "not_able": ("Is there anything you would like your council to know?",
                 "You do not have to tell us why. You can leave this empty."),
    "something_else": ("Tell us what you are doing", "For example, volunteering, travelling or caring for someone."),
}
PROBLEMS = {
    404: ("This link does not work", ["Links work once, and for 14 days.",
                                      "We will send you a new link. You can also contact your local council."]),
    401: ("Your visit has ended", ["For your security, a visit ends after a while or if something changed.",
                                   "Open the link in your latest message from us."]),
    429: ("Too many tries", ["Wait an hour, then open the link in your latest message from us."]),
}
MAX_WORDS = 2000


class VisitEnded(Exception):
    """No visit, an expired one or a tampered cookie: the same 401 page for all."""


class WrongPage(Exception):
    """A page that does not follow from the answers so far (a bookmark, the back button): go to `to`."""

    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


def problem(request: Request, status: int) -> Response:
    title, paragraphs = PROBLEMS[status]
    return web.render(request, "you_problem.html", status_code=status, title=title, paragraphs=paragraphs)


def question_page(request: Request, name: str, title: str, choices: dict, value, *, hint: str | None = None,
                  back: str | None = None, status_code: int = 200, error: str | None = None) -> Response:
    """One question with radios; `choices` maps a value to (label, ...)."""
    return web.render(request, "you_radios.html", status_code=status_code, title=title, name=name, hint=hint,
                      options=[(k, v[0]) for k, v in choices.items()], value=value, visiting=True, back=back,
                      errors={name: error} if error else {})


def checked_date(data: dict, today: date) -> tuple[date | None, dict]:
    """A GOV.UK date input: all three parts or none; a real date, not more than a year ahead."""
    parts = [data[f"start_date-{p}"] for p in ("day", "month", "year")]
    if not any(parts):
        return None, {}
    if not all(parts) or not all(p.isascii() and p.isdigit() for p in parts):
        return None, {"start_date": "Enter the date you started as a day, month and year, like 8 9 2026"}
    try:
        started = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None, {"start_date": "The date you started must be a real date"}
    if started.year < 2000 or started > today + timedelta(days=366):
        return None, {"start_date": "The date you started must be after 2000 and no more than a year from now"}
    return started, {}


def words_of(form, *, required: bool) -> tuple[str | None, str | None]:
    """The young person's own words (optional unless `required`), at most 2,000 characters."""
    said = (form.get("words") or "").strip() or None
    if said is None and required:
        return None, "Tell us what you are doing"
    if said and len(said) > MAX_WORDS:
        return said, f"Use {MAX_WORDS:,} characters or fewer"
    if said and has_control_character(said, multiline=True):
        return None, "Remove the special characters that cannot be shown, then try again"
    return said, None
