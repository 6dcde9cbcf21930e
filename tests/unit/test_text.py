"""Hashtag extraction and mention finding (docs/domain.md §2.4, docs/frontend.md §6).

Each property test compares the regex implementation with a plain left-to-right
scanner written from the spec's wording, then checks the invariants on their own.
"""

from __future__ import annotations

import re
import string

from hypothesis import example, given
from hypothesis import strategies as st

from phasma.text import Mention, extract_hashtags, find_mentions

TAG_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_")
NAME_CHARACTERS = TAG_CHARACTERS | {"."}

# Text rich in the characters that matter, plus the non-ASCII letters that a
# case-insensitive `[a-z]` would wrongly accept (Kelvin sign, long s, dotted I).
interesting = st.sampled_from(
    ["#", "@", "_", ".", " ", "a", "B", "z", "0", "9", "\u212a", "\u017f", "\u0130"]
)
texts = st.text(alphabet=st.one_of(interesting, st.characters()), max_size=400)
ascii_texts = st.text(alphabet=st.sampled_from(string.printable), max_size=400)


def scan_hashtags(text: str) -> list[str]:
    """The spec read literally: each `#` then up to 50 tag characters, left to right."""
    tags: list[str] = []
    position = 0
    while position < len(text) and len(tags) < 20:
        if text[position] == "#":
            end = position + 1
            while end < len(text) and end - position <= 50 and text[end] in TAG_CHARACTERS:
                end += 1
            if end > position + 1:
                tag = text[position + 1 : end].lower()
                if tag not in tags:
                    tags.append(tag)
                position = end
                continue
        position += 1
    return tags


def scan_mentions(text: str) -> list[Mention]:
    """Each `@` followed by 3-30 name characters, left to right, never overlapping."""
    found: list[Mention] = []
    position = 0
    while position < len(text):
        if text[position] == "@":
            end = position + 1
            while end < len(text) and end - position <= 30 and text[end] in NAME_CHARACTERS:
                end += 1
            if end - position - 1 >= 3:
                found.append(Mention(position, end, text[position + 1 : end].lower()))
                position = end
                continue
        position += 1
    return found


@given(texts)
@example("#" + "a" * 60)
@example("#" + "K")  # the Kelvin sign is not a tag character
def test_hashtags_follow_the_spec_scanner(text: str) -> None:
    assert extract_hashtags(text) == scan_hashtags(text)


@given(texts)
def test_hashtags_are_lowercase_unique_valid_and_capped(text: str) -> None:
    tags = extract_hashtags(text)
    assert len(tags) <= 20
    assert len(set(tags)) == len(tags)
    for tag in tags:
        assert re.fullmatch(r"[a-z0-9_]{1,50}", tag)
        assert "#" + tag in text.lower()


@given(ascii_texts)
def test_hashtags_ignore_letter_case(text: str) -> None:
    assert (
        extract_hashtags(text.upper()) == extract_hashtags(text.lower()) == extract_hashtags(text)
    )


@given(texts, texts)
def test_more_text_only_appends_tags(first: str, second: str) -> None:
    before = extract_hashtags(first)
    assert extract_hashtags(first + " " + second)[: len(before)] == before


def test_hashtag_examples_from_the_spec() -> None:
    assert extract_hashtags("sunset at the #Beach") == ["beach"]
    assert extract_hashtags("a#b") == ["b"]
    assert extract_hashtags("##x") == ["x"]
    assert extract_hashtags("#a-b #c.d") == ["a", "c"]
    assert extract_hashtags("#Cat #cat #CAT #dog #cat") == ["cat", "dog"]
    assert extract_hashtags("#" + "x" * 50 + "tail") == ["x" * 50]
    assert extract_hashtags("# #-") == []
    assert extract_hashtags("#é #\u017f #\u212a") == []


def test_hashtags_stop_after_twenty_distinct() -> None:
    text = " ".join(f"#tag{index}" for index in range(25))
    assert extract_hashtags(text) == [f"tag{index}" for index in range(20)]
    # Repeats do not count towards the cap.
    assert len(extract_hashtags("#a #a #a " + text)) == 20


@given(texts)
@example("@" + "b" * 40)
def test_mentions_follow_the_spec_scanner(text: str) -> None:
    assert find_mentions(text) == scan_mentions(text)


@given(texts)
def test_mentions_are_ordered_disjoint_spans_of_the_text(text: str) -> None:
    previous_end = 0
    for mention in find_mentions(text):
        assert previous_end <= mention.start < mention.end <= len(text)
        assert text[mention.start] == "@"
        written = text[mention.start + 1 : mention.end]
        assert mention.username == written.lower()
        assert re.fullmatch(r"[a-z0-9._]{3,30}", mention.username)
        previous_end = mention.end


def test_mention_examples() -> None:
    assert find_mentions("hi @Alice!") == [Mention(3, 9, "alice")]
    assert find_mentions("@ab @abc") == [Mention(4, 8, "abc")]
    assert find_mentions("mail@bob.example") == [Mention(4, 16, "bob.example")]
    assert find_mentions("@@carol") == [Mention(1, 7, "carol")]
    assert find_mentions("@" + "d" * 31) == [Mention(0, 31, "d" * 30)]
    assert find_mentions("@\u212aelvin @\u017fam") == []  # Kelvin sign, long s
