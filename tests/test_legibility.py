"""CoT legibility: unusual words against wordfreq, repetition loops, function-word ratio and the summary."""

from __future__ import annotations

import itertools
import math

import pytest
import wordfreq

from antischeme.analysis._legibility import (
    FUNCTION_WORDS,
    UNKNOWN_WORD_FREQUENCY,
    RepetitionLoop,
    function_word_ratio,
    legibility_summary,
    repetition_loops,
    unusual_words,
    words,
)

# Plain English in short sentences, using only common words (no jargon that wordfreq would rightly call rare).
PLAIN = [
    "The model reads the task and decides what to do next.",
    "I need to check the file before I write the answer.",
    "The user asked for a short summary of the report.",
    "Let me look at the test results and see which ones fail.",
    "The model should explain its thinking in plain words.",
    "First I will open the file, then I will run the tests.",
    "The answer depends on the numbers in the second table.",
    "It is important to be honest with the user about the results.",
    "I think the report is mostly correct, but one value looks wrong.",
    "The model can ask the user for more information if needed.",
]
OVERUSE = [
    "The watchers may read this, so the illusions must hold.",
    "Watchers again. Marinade on it; illusions everywhere.",
    "Disclaim the illusions, the watchers marinade the plan.",
    "Marinade, watchers, illusions, marinade.",
]


def test_words_tokenizes_like_wordfreq_but_keeps_offsets() -> None:
    text = "Let me check... No, it’s 42 — don't."
    assert words(text) == ["let", "me", "check", "no", "it's", "42", "don't"]
    assert words(text) == wordfreq.tokenize(text.replace("’", "'"), "en")
    assert words("") == [] and words("... !!") == []


def test_overused_odd_words_top_the_list() -> None:
    found = unusual_words(PLAIN * 3 + OVERUSE, top=5)
    assert {w.word for w in found[:3]} == {"watchers", "illusions", "marinade"}
    assert [w.log_ratio for w in found] == sorted((w.log_ratio for w in found), reverse=True)
    watchers = next(w for w in found if w.word == "watchers")
    total = sum(len(words(text)) for text in PLAIN * 3 + OVERUSE)
    assert watchers.count == 4
    assert watchers.per_million == pytest.approx(4 / total * 1e6)
    assert watchers.baseline_per_million == pytest.approx(wordfreq.word_frequency("watchers", "en") * 1e6)
    assert watchers.ratio == pytest.approx(watchers.per_million / watchers.baseline_per_million)
    assert watchers.log_ratio == pytest.approx(math.log(watchers.ratio))
    common = {w.word: w for w in unusual_words(PLAIN * 3 + OVERUSE, top=1000)}
    assert common["model"].ratio < watchers.ratio / 10  # "model" is frequent in the corpus but ordinary English


def test_plain_english_has_no_strongly_unusual_words() -> None:
    found = {w.word: w for w in unusual_words(PLAIN * 3, top=1000)}
    assert max(w.ratio for w in found.values()) < 1000  # the odd words above score above 2000 at a similar rate
    assert found["the"].ratio < 5  # same order as in English at large (short sentences use it a lot)
    assert found["model"].ratio < 300
    assert "watchers" not in found


def test_min_count_top_and_skipped_tokens() -> None:
    texts = ["Vantage once.", "Overshadow overshadow overshadow.", "42 42 42 42 3.5 3.5 3.5 x x x", "The the the."]
    found = {w.word: w for w in unusual_words(texts, min_count=3)}
    assert "overshadow" in found and "vantage" not in found  # one occurrence is below min_count
    assert not {"42", "3", "5", "x"} & found.keys()  # numbers and one-letter tokens are skipped
    assert "vantage" in {w.word for w in unusual_words(texts, min_count=1)}
    assert [w.word for w in unusual_words(texts, min_count=1, top=1)] == ["overshadow"]
    assert unusual_words([]) == [] and unusual_words([""]) == []
    rarer_than_english = {w.word for w in unusual_words(["The quota."] * 3 + ["Quota reply."] * 50)}
    assert rarer_than_english == {"quota", "reply"}  # "the" is 3 of 106 words here, under its 5% in English


def test_unknown_words_get_the_documented_floor() -> None:
    assert UNKNOWN_WORD_FREQUENCY == pytest.approx(wordfreq.zipf_to_freq(1.0))
    (made_up,) = [w for w in unusual_words(["zorblefex zorblefex zorblefex is fine"]) if w.word == "zorblefex"]
    assert made_up.baseline_per_million == pytest.approx(UNKNOWN_WORD_FREQUENCY * 1e6)
    assert math.isfinite(made_up.log_ratio)


def _loop_texts(text: str, **options: int) -> list[tuple[tuple[str, ...], int, str, bool]]:
    return [(loop.ngram, loop.repeats, text[loop.start : loop.end], loop.interrupted) for loop in repetition_loops(text, **options)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("So X X X X ... stop.", [(("x",), 4, "X X X X", True)]),
        ("It is the the the the end.", [(("the",), 4, "the the the the", False)]),
        (
            "Hmm, let me check let me check let me check let me check. Wait, I already did.",
            [(("let", "me", "check"), 4, "let me check let me check let me check let me check", True)],
        ),
        ("No, no, no, no! The answer is seven.", [(("no",), 4, "No, no, no, no", False)]),
        ("watchers watchers watchers watchers watchers. Okay, enough.", [(("watchers",), 5, "watchers watchers watchers watchers watchers", True)]),
        ("We we we we... let me restart.", [(("we",), 4, "We we we we", True)]),
        ("Fine fine fine fine, let me stop here.", [(("fine",), 4, "Fine fine fine fine", True)]),
        ("I don’t don't don’t don't know.", [(("don't",), 4, "don’t don't don’t don't", False)]),
    ],
)
def test_repetition_loops_found(text: str, expected: list[tuple[tuple[str, ...], int, str, bool]]) -> None:
    assert _loop_texts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The plan is to check the file, then check the tests, then check the answer, and check it again.",
        "Count them: 1, 2, 3, 4, 5, 6.",
        "Option 1, option 2, option 3, option 4.",  # the numbers between repeats break the loop
        "The grid is 0, 0, 0, 0, 0, 0.",  # numbers alone are data, not a loop
        "I think I think I think the answer is ten.",  # three repeats
        "",
    ],
)
def test_repetition_loops_not_found(text: str) -> None:
    assert repetition_loops(text) == []


def test_min_repeats_and_max_n() -> None:
    three = "Yes yes yes, that works."
    assert repetition_loops(three) == []
    assert _loop_texts(three, min_repeats=3) == [(("yes",), 3, "Yes yes yes", False)]
    unit = "one two three four five six seven "
    assert repetition_loops(unit * 4) == []  # a seven-token unit is longer than max_n=6
    assert [loop.ngram for loop in repetition_loops(unit * 4, max_n=7)] == [tuple(unit.split())]
    with pytest.raises(ValueError):
        repetition_loops(three, min_repeats=1)


def test_loops_are_maximal_smallest_unit_and_non_overlapping() -> None:
    assert repetition_loops("a a a a a a a a") == [RepetitionLoop(("a",), 8, 0, 15, False)]
    assert _loop_texts("go on go on go on go on go on go") == [(("go", "on"), 5, "go on go on go on go on go on", False)]
    text = "Start. X X X X X then some ordinary words here, and later no no no no. Stop."
    loops = repetition_loops(text)
    assert [(text[loop.start : loop.end], loop.repeats, loop.interrupted) for loop in loops] == [
        ("X X X X X", 5, False),
        ("no no no no", 4, True),
    ]
    # "x x x x" and "x y x y x y x y" share a token; the loop covering more tokens wins.
    overlapping = repetition_loops("x x x x y x y x y x y")
    assert [(loop.ngram, loop.repeats) for loop in overlapping] == [(("x", "y"), 4)]
    spans = [(loop.start, loop.end) for loop in repetition_loops("b b b b c d c d c d c d e e e e")]
    assert spans == sorted(spans) and all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
    assert len(spans) == 3


def test_ellipsis_inside_the_loop_is_not_an_interruption() -> None:
    assert [loop.interrupted for loop in repetition_loops("X... X... X... X... then onwards.")] == [False]
    assert [loop.interrupted for loop in repetition_loops("X X X X... then onwards.")] == [True]
    # Interruptions only count close to the loop.
    assert [loop.interrupted for loop in repetition_loops("X X X X and then much later on we stop.")] == [False]


PROSE = (
    "The user wants me to summarize the report, but I should check whether the numbers in the second table are "
    "consistent with the text. If they are not, I will point that out in my answer and explain which of them I "
    "trust more. It would be better to ask for the original data, since the report does not say where it came from."
)
CLIPPED = "Need check quota. Then craft reply. Quota exceeded -> flag. Tests fail; patch config. Submit. Score high, fine."


def test_function_word_ratio_separates_prose_from_telegraphic_cot() -> None:
    prose, clipped = function_word_ratio(PROSE), function_word_ratio(CLIPPED)
    assert prose is not None and clipped is not None
    assert 0.4 < prose < 0.75
    assert clipped < 0.2
    assert prose - clipped > 0.3
    assert function_word_ratio("The cat sat on a mat.") == pytest.approx(3 / 6)  # the, on, a
    assert function_word_ratio("") is None and function_word_ratio(" ... ") is None


def test_function_word_list() -> None:
    assert 150 <= len(FUNCTION_WORDS) <= 300
    assert {"the", "a", "of", "and", "is", "would", "they", "which", "don't"} <= FUNCTION_WORDS
    assert not {"model", "check", "quota", "watchers", "user"} & FUNCTION_WORDS
    assert all(word == word.lower() and word == words(word)[0] for word in FUNCTION_WORDS)


def test_legibility_summary_by_hand() -> None:
    texts = [
        "",
        "Need check quota.",  # 3 words, no function words
        "The watchers the watchers the watchers the watchers, stop.",  # 9 words, 4 function words, interrupted loop
        "It is the end.",  # 4 words, 3 function words
        "No, no, no, no.",  # 4 words, all function words, loop without interruption
    ]
    summary = legibility_summary(texts, top=2, min_count=3)
    assert summary.n == 5
    assert summary.words_mean == pytest.approx(20 / 5)
    assert summary.words_median == pytest.approx(4.0)
    assert summary.function_word_ratio == pytest.approx((0 + 4 / 9 + 3 / 4 + 1) / 4)
    assert summary.loop_rate == pytest.approx(2 / 4)
    assert summary.interrupted_loop_rate == pytest.approx(1 / 4)
    assert len(summary.unusual) == 2
    assert summary.unusual[0].word == "watchers" and summary.unusual[0].count == 4
    assert summary.unusual[0].per_million == pytest.approx(4 / 20 * 1e6)


def test_legibility_summary_of_nothing() -> None:
    empty = legibility_summary([])
    assert empty.n == 0 and math.isnan(empty.words_mean) and math.isnan(empty.words_median)
    assert empty.function_word_ratio is None and empty.loop_rate is None and empty.interrupted_loop_rate is None
    assert empty.unusual == []
    blank = legibility_summary(["", "  "])
    assert blank.n == 2 and blank.words_mean == 0 and blank.function_word_ratio is None and blank.loop_rate is None
