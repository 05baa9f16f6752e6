"""Subject actions: the verbs of a prompt that a compositor can show with a cut-out (enters from
a side, walks across, exits, rotates, tumbles, floats, bounces, grows, shrinks), and who does them.

Pure text. The doer of a verb is the @ImageN named last before it in the same sentence, with the
mentions joined to it by "and" or commas ("@Image1 and @Image2 walk across"); a verb with no
mention before it applies to every subject of the shot.
"""

from __future__ import annotations

import re

from reelforge.planning.camera import clause_speed
from reelforge.planning.mentions import iter_mentions
from reelforge.planning.model import Action, ActionCue
from reelforge.spec import ReferenceKind

_SIDE = r"(?:the\s+)?(?P<side>left|right)"
_MOVER = (
    r"(?:walk|run|come|came|slide|slid|fly|flie|flew|drive|drove|ride|rode|step|move|roll|float"
    r"|swim|swam|dash|stroll|march|jog|sprint|rush|glide|hop|skat|crawl|wander|stride|strode"
    r"|stumble|storm|burst|race|charge|sneak|creep|trot|gallop|limp|skip|dance|danc)"
    r"(?:s|es|ed|ing|d)?"
)
_FRAME = r"(?:\s+(?:the\s+)?(?:frame|shot|screen|picture|view|scene))?"

# (action or None = decided by a side/direction word, pattern). Earlier patterns win overlaps.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "enter",
        rf"\b(?:enter(?:s|ed|ing)?{_FRAME}|{_MOVER}\s+(?:in(?:to)?|on){_FRAME}|appear(?:s|ed|ing)?)"
        rf"\s+from\s+{_SIDE}\b",
    ),
    ("enter", rf"\b(?:enter(?:s|ed|ing)?)\b{_FRAME}"),  # no side named: from the left
    (
        "exit",
        rf"\b(?:exit(?:s|ed|ing)?(?:\s+(?:the\s+)?(?:frame|shot|screen|scene|view|picture))?"
        rf"|leav(?:e|es|ing)\s+(?:the\s+)?(?:frame|shot|screen|scene|view|picture)"
        rf"|{_MOVER}\s+(?:out|off)(?:\s+of)?(?:\s+(?:the\s+)?(?:frame|shot|screen|scene|view))?)"
        rf"(?:\s+(?:to(?:wards?)?|on|at|through)\s+{_SIDE}(?:\s+side)?)?",
    ),
    (
        "walk",
        rf"\b(?:{_MOVER}|cross(?:es|ed|ing)?|travel(?:s|led|ed|ling|ing)?|pass(?:es|ed|ing)?)"
        r"\s+(?:across|past|along)\b"
        r"(?:\s+(?:the\s+)?(?:frame|shot|screen|picture|view|scene|street|room|stage|road))?"
        r"(?:\s+from\s+(?:the\s+)?(?P<from>left|right)(?:\s+to\s+(?:the\s+)?(?:left|right))?"
        r"|\s+(?:to(?:wards?)?\s+)?(?:the\s+)?(?P<to>left|right)(?:ward|wards)?)?",
    ),
    (
        "walk",
        r"\bcross(?:es|ed|ing)?\s+(?:the\s+)?(?:frame|shot|screen|picture|view|scene|stage)"
        r"(?:\s+from\s+(?:the\s+)?(?P<from>left|right))?",
    ),
    (
        "walk",
        rf"\b{_MOVER}\s+(?:from\s+(?:the\s+)?(?P<from>left|right)\s+to\s+(?:the\s+)?(?:left|right)"
        r"|(?:to(?:wards?)?\s+)(?:the\s+)?(?P<to>left|right)(?:\s+side)?|(?P<to2>left|right)wards?)",
    ),
    ("rotate", r"\b(?:rotat\w*|spin(?:s|ning)?|spun|twirl\w*|pirouett\w*|revolv\w*)\b"),
    ("rotate", r"\bturn(?:s|ed|ing)?\s+(?:a)?round\b"),
    ("tumble", r"\b(?:tumbl\w*|cartwheel\w*|somersault\w*|flip(?:s|ped|ping)?)\b"),
    ("tumble", r"\broll(?:s|ed|ing)?\s+over\b"),
    ("float", r"\b(?:float\w*|hover\w*|levitat\w*|drift\w*|bob(?:s|bing|bed)?)\b"),
    (
        "bounce",
        r"\b(?:bounc\w*|hop(?:s|ping|ped)?|jump\w*|leap\w*|skip(?:s|ping|ped)?|trampolin\w*)\b",
    ),
    (
        "grow",
        r"\b(?:grow(?:s|ing)?|grew|enlarg\w*|expand\w*|swell(?:s|ing|ed)?|approach\w*"
        r"|gets?\s+(?:bigger|larger|closer)|(?:comes?|coming|came|moves?|moving|walks?|walking)"
        r"\s+(?:closer|towards?\s+(?:the\s+)?(?:camera|viewer|us|lens)))\b",
    ),
    (
        "shrink",
        r"\b(?:shrink\w*|shrank|shrunk(?:en)?|gets?\s+smaller|reced\w*|dwindl\w*"
        r"|(?:moves?|moving|walks?|walking|flies|flying)\s+away(?:\s+from\s+(?:the\s+)?"
        r"(?:camera|viewer|us|lens))?)\b",
    ),
)
_COMPILED = tuple((name, re.compile(p, re.IGNORECASE)) for name, p in _PATTERNS)
_SENTENCE_BREAK = re.compile(r"[.;!?\n]")
_JOINER = re.compile(r"^\s*(?:,|&|and|,\s*and|as\s+well\s+as|with)\s*$", re.IGNORECASE)
# A verb after "camera" is the camera's ("the camera moves closer" is a dolly, not a subject).
_CAMERA_BEFORE = re.compile(r"\bcamera\s+(?:\w+ly\s+)?$", re.IGNORECASE)


def find_actions(text: str, subjects: range | None = None) -> tuple[ActionCue, ...]:
    """Every action named in `text`, in order, each with its doer (None = all subjects).

    `subjects` limits which @ImageN can be doers (mentions outside it are ignored)."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, ActionCue]] = []
    for name, pattern in _COMPILED:
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            if _CAMERA_BEFORE.search(text[max(0, m.start() - 30) : m.start()]):
                continue
            action = _action(name, m)
            speed = clause_speed(text, m.start())
            taken.append((m.start(), m.end()))
            for doer in _doers(text, m.start(), subjects):
                found.append((m.start(), ActionCue(action=action, image=doer, speed=speed)))
    found.sort(key=lambda item: item[0])
    return tuple(cue for _, cue in found)


def _action(name: str, m: re.Match[str]) -> Action:
    groups = m.groupdict()
    side = (groups.get("side") or "").lower()
    if name == "enter":
        return Action.ENTER_RIGHT if side == "right" else Action.ENTER_LEFT
    if name == "exit":
        return Action.EXIT_LEFT if side == "left" else Action.EXIT_RIGHT
    if name == "walk":
        src = (groups.get("from") or "").lower()
        dst = (groups.get("to") or groups.get("to2") or "").lower()
        if src == "right" or dst == "left":
            return Action.WALK_LEFT
        return Action.WALK_RIGHT
    return {
        "rotate": Action.ROTATE,
        "tumble": Action.TUMBLE,
        "float": Action.FLOAT,
        "bounce": Action.BOUNCE,
        "grow": Action.GROW,
        "shrink": Action.SHRINK,
    }[name]


def _doers(text: str, verb_at: int, subjects: range | None) -> list[int | None]:
    """The @ImageN doing the verb at `verb_at`: the last image mention before it in the same
    sentence, plus the mentions chained to that one by "and" / commas."""
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text, 0, verb_at)]
    begin = breaks[-1] if breaks else 0
    mentions = [
        m
        for m in iter_mentions(text[begin:verb_at])
        if m.kind is ReferenceKind.IMAGE and (subjects is None or m.index in subjects)
    ]
    if not mentions:
        return [None]
    chain = [mentions[-1]]
    for prev in reversed(mentions[:-1]):
        gap = text[begin + prev.end : begin + chain[-1].start]
        if not _JOINER.match(gap):
            break
        chain.append(prev)
    return [m.index for m in reversed(chain)]
