"""The base of the JSON bodies the API accepts: no text in them may hold a NUL character, which PostgreSQL
cannot store, so such a body is a 422 naming the field instead of a 500 from the driver."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from config.user_text import TextRule


class Payload(BaseModel):
    @field_validator("*")
    @classmethod
    def _without_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("expected text without NUL (\\x00) characters")
        return value


def text_field(rule: TextRule, default: Any = ..., **options: Any) -> Any:
    """A body field holding `rule`'s text, the whole rule in the schema (its lengths, and its pattern as
    documentation only); the rule is checked where the command line's input is too (the job service, the alerts
    commands), so both accept the same and a refusal says it in the rule's words."""
    return Field(
        default,
        min_length=rule.min_length or None,
        max_length=rule.max_length,
        json_schema_extra={"pattern": rule.pattern},
        **options,
    )
