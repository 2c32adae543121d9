"""The VLM teacher: reads a task image and instruction, writes rules, repairs them from diagnostics.

The VLM's text is untrusted: it only ever reaches the rules parser (through
:func:`rulec.runtime.teacher.answer.extract_rules`, which bounds its size).
"""

from rulec.runtime.teacher.answer import MAX_RULES_CHARS, extract_rules
from rulec.runtime.teacher.errors import TeacherError, TeachFailed
from rulec.runtime.teacher.prompt import Prompt, build_prompt, repair_message, system_prompt

__all__ = [
    "MAX_RULES_CHARS",
    "Prompt",
    "TeacherError",
    "TeachFailed",
    "build_prompt",
    "extract_rules",
    "repair_message",
    "system_prompt",
]
