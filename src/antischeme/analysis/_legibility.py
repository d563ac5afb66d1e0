"""CoT legibility: unusual vocabulary, repetition loops and compression (dropped function words).

The reference anti-scheming study found that reasoning traces drift away from plain English in three ways:
unusual words such as "illusions", "watchers", "disclaim", "vantage", "overshadow" and "marinade" are heavily
over-represented, the model falls into repetition loops ("X X X X ... stop"), and the text gets compressed into
telegraphic notes that drop function words ("Need check quota. Then craft."). `unusual_words` compares word
frequencies in the CoTs with general English (the `wordfreq` baseline shipped with its wheel, so no network),
`repetition_loops` finds the same token or short n-gram repeated back to back and whether the model then interrupts
itself, and `function_word_ratio` measures compression as the share of tokens that are function words (about half
of ordinary English prose). `legibility_summary` aggregates all three over a set of CoTs.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import wordfreq

# Runs of letters/digits, optionally joined by apostrophes ("don't", "model's"). A regex rather than
# `wordfreq.tokenize` because repetition loops need character offsets, which wordfreq does not give; like wordfreq
# we keep numbers as tokens (a numbered list must not collapse into "option option option option").
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

# Baseline for words wordfreq has never seen: the frequency of a word with Zipf 1.0 (once per 100 million words),
# just below the rarest words in wordfreq's large English list, so unknown words rank as very unusual but finite.
UNKNOWN_WORD_FREQUENCY: float = wordfreq.zipf_to_freq(1.0)

# Self-interruptions that end a loop: single words and two-word phrases ("okay, enough" is caught by "enough").
_INTERRUPT_WORDS = frozenset({"stop", "wait", "enough", "halt", "anyway", "anyways", "nevermind"})
_INTERRUPT_PHRASES = frozenset({("never", "mind"), ("hold", "on"), ("moving", "on"), ("break", "loop")})
_INTERRUPT_WINDOW = 4  # tokens after a loop in which an interruption still counts as ending it
_ELLIPSIS = re.compile(r"\.\.\.|…")

# English function words: the closed classes that carry grammar rather than content. Content words (nouns, main
# verbs, adjectives, most adverbs) are left out, so telegraphic CoT ("Need check quota. Then craft.") scores low.
FUNCTION_WORDS: frozenset[str] = frozenset(
    {
        # articles, determiners and quantifiers
        "a", "an", "the", "this", "that", "these", "those", "each", "every", "either", "neither", "some", "any", "no",
        "all", "both", "half", "several", "many", "much", "more", "most", "few", "fewer", "less", "least", "enough",
        "such", "what", "whatever", "which", "whichever", "whose", "other", "another", "own",
        # personal, possessive and reflexive pronouns
        "i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
        "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they",
        "them", "their", "theirs", "themselves", "one", "oneself",
        # relative and indefinite pronouns
        "who", "whom", "whoever", "whomever", "someone", "somebody", "something", "anyone", "anybody", "anything",
        "everyone", "everybody", "everything", "nobody", "nothing", "none",
        # prepositions
        "about", "above", "across", "after", "against", "along", "amid", "among", "around", "as", "at", "before",
        "behind", "below", "beneath", "beside", "besides", "between", "beyond", "but", "by", "despite", "down",
        "during", "except", "for", "from", "in", "inside", "into", "like", "near", "of", "off", "on", "onto", "out",
        "outside", "over", "past", "per", "since", "than", "through", "throughout", "till", "to", "toward", "towards",
        "under", "underneath", "unlike", "until", "up", "upon", "via", "with", "within", "without",
        # conjunctions and subordinators
        "and", "or", "nor", "so", "yet", "if", "because", "although", "though", "unless", "whereas", "while",
        "whether", "once", "lest",
        # relative and deictic adverbs
        "when", "whenever", "where", "wherever", "whereby", "how", "why", "then", "there", "here",
        # auxiliaries, modals and negation
        "be", "am", "is", "are", "was", "were", "been", "being", "have", "has", "had", "having", "do", "does", "did",
        "doing", "done", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "ought", "not",
        "never",
        # contracted pronoun + auxiliary
        "i'm", "i've", "i'd", "i'll", "you're", "you've", "you'd", "you'll", "he's", "he'd", "he'll", "she's",
        "she'd", "she'll", "it's", "it'd", "it'll", "we're", "we've", "we'd", "we'll", "they're", "they've", "they'd",
        "they'll", "that's", "there's", "here's", "what's", "who's", "let's",
        # contracted negations
        "isn't", "aren't", "wasn't", "weren't", "hasn't", "haven't", "hadn't", "doesn't", "don't", "didn't", "won't",
        "wouldn't", "shan't", "shouldn't", "can't", "cannot", "couldn't", "mightn't", "mustn't",
    }
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of a text (letters, digits and inner apostrophes; punctuation dropped).

    Args:
        text: Any text, e.g. one chain of thought.
    """
    return [match.group().lower() for match in _TOKEN.finditer(_normalize(text))]


@dataclass(frozen=True)
class UnusualWord:
    """A word over-represented in the CoTs relative to general English.

    Args:
        word: The (lower-cased) word.
        count: Occurrences in the CoTs.
        per_million: Occurrences per million CoT words.
        baseline_per_million: wordfreq's English frequency per million words (`UNKNOWN_WORD_FREQUENCY` as a floor).
        ratio: per_million / baseline_per_million.
        log_ratio: Natural log of ratio (the sort key).
    """

    word: str
    count: int
    per_million: float
    baseline_per_million: float
    ratio: float
    log_ratio: float


def unusual_words(texts: Iterable[str], *, top: int = 20, min_count: int = 3, lang: str = "en") -> list[UnusualWord]:
    """Words the CoTs use far more often than general English does, most over-represented first.

    Tokens with digits and one-letter tokens are skipped; only words with a ratio above 1 are returned.

    Args:
        texts: The CoTs (pooled into one word count).
        top: How many words to return at most.
        min_count: Minimum occurrences; rarer words are noise (a single typo would otherwise top the list).
        lang: wordfreq language code of the baseline.
    """
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        tokens = words(text)
        total += len(tokens)  # the denominator counts every token, as wordfreq's frequencies do
        counts.update(token for token in tokens if len(token) > 1 and not any(c.isdigit() for c in token))
    found = []
    for word, count in counts.items():
        if count < min_count:
            continue
        per_million = count / total * 1e6
        baseline = wordfreq.word_frequency(word, lang, minimum=UNKNOWN_WORD_FREQUENCY) * 1e6
        ratio = per_million / baseline
        if ratio > 1:
            found.append(UnusualWord(word, count, per_million, baseline, ratio, math.log(ratio)))
    found.sort(key=lambda w: (-w.log_ratio, -w.count, w.word))
    return found[:top]


@dataclass(frozen=True)
class RepetitionLoop:
    """A token or short n-gram repeated back to back.

    Args:
        ngram: The repeated unit (the shortest one: "a a a a" is ("a",)).
        repeats: Consecutive repeats of the unit.
        start: Character offset where the loop starts.
        end: Character offset where the loop ends (exclusive; trailing punctuation not included).
        interrupted: Whether a self-interruption ("stop", "wait", "okay, enough", "...") follows within a few tokens.
    """

    ngram: tuple[str, ...]
    repeats: int
    start: int
    end: int
    interrupted: bool


def repetition_loops(text: str, *, min_repeats: int = 4, max_n: int = 6) -> list[RepetitionLoop]:
    """Maximal, non-overlapping runs of one token or n-gram repeated `min_repeats` or more times in a row.

    Punctuation between repeats is ignored ("no, no, no, no" is a loop). Where candidate loops overlap, the one
    covering more tokens wins, then the shorter unit. Runs of numbers alone ("0, 0, 0, 0") are data, not loops.

    Args:
        text: One chain of thought.
        min_repeats: Minimum consecutive repeats of the unit.
        max_n: Longest unit, in tokens.
    """
    if min_repeats < 2 or max_n < 1:
        raise ValueError(f"need min_repeats >= 2 and max_n >= 1, got {min_repeats}, {max_n}")
    text = _normalize(text)
    matches = list(_TOKEN.finditer(text))
    tokens = np.array([m.group().lower() for m in matches], dtype=object)
    candidates = []  # (first token, unit length, repeats)
    for n in range(1, max_n + 1):
        if len(tokens) < n * min_repeats:
            break
        # tokens[j] == tokens[j + n] along a stretch of L positions means the unit of length n repeats over
        # L + n tokens; finding the stretches per n is a vectorized run-length pass.
        same = np.concatenate(([False], tokens[:-n] == tokens[n:], [False])).astype(np.int8)
        edges = np.flatnonzero(np.diff(same))
        for first, stop in zip(edges[::2], edges[1::2]):
            repeats = (stop - first + n) // n
            if repeats >= min_repeats and any(c.isalpha() for token in tokens[first : first + n] for c in token):
                candidates.append((int(first), n, int(repeats)))
    candidates.sort(key=lambda c: (-c[1] * c[2], c[1], c[0]))
    taken = np.zeros(len(tokens), dtype=bool)
    loops = []
    for first, n, repeats in candidates:
        last = first + n * repeats  # exclusive
        if taken[first:last].any():
            continue
        taken[first:last] = True
        ngram = tuple(tokens[first : first + n])
        interrupted = _interrupted(text, matches, tokens, first, n, last)
        loops.append(RepetitionLoop(ngram, repeats, matches[first].start(), matches[last - 1].end(), interrupted))
    return sorted(loops, key=lambda loop: loop.start)


def function_word_ratio(text: str) -> float | None:
    """Share of word tokens that are function words (`FUNCTION_WORDS`); None for a text without words.

    Ordinary English prose scores about 0.45-0.55; compressed, telegraphic CoT scores well below.

    Args:
        text: One chain of thought.
    """
    tokens = words(text)
    if not tokens:
        return None
    return sum(token in FUNCTION_WORDS for token in tokens) / len(tokens)


@dataclass(frozen=True)
class LegibilitySummary:
    """Legibility measures over a set of CoTs.

    Args:
        n: Number of texts.
        words_mean: Mean word count per text (NaN for no texts).
        words_median: Median word count per text (NaN for no texts).
        function_word_ratio: Mean function-word ratio over non-empty texts (None if all are empty).
        loop_rate: Share of non-empty texts with at least one repetition loop.
        interrupted_loop_rate: Share of non-empty texts with a loop followed by a self-interruption.
        unusual: The most over-represented words (see `unusual_words`).
    """

    n: int
    words_mean: float
    words_median: float
    function_word_ratio: float | None
    loop_rate: float | None
    interrupted_loop_rate: float | None
    unusual: list[UnusualWord]


def legibility_summary(texts: Sequence[str], *, top: int = 10, min_count: int = 3) -> LegibilitySummary:
    """Summarize CoT legibility: length, compression, repetition loops and unusual words.

    Args:
        texts: The CoTs (empty strings count towards length statistics only).
        top: How many unusual words to keep.
        min_count: Minimum occurrences of an unusual word.
    """
    lengths = [len(words(text)) for text in texts]
    nonempty = [text for text, length in zip(texts, lengths) if length]
    ratios = [function_word_ratio(text) for text in nonempty]
    loops = [repetition_loops(text) for text in nonempty]
    return LegibilitySummary(
        n=len(texts),
        words_mean=statistics.fmean(lengths) if lengths else math.nan,
        words_median=float(statistics.median(lengths)) if lengths else math.nan,
        function_word_ratio=statistics.fmean(ratios) if ratios else None,
        loop_rate=_share(bool(found) for found in loops) if loops else None,
        interrupted_loop_rate=_share(any(loop.interrupted for loop in found) for found in loops) if loops else None,
        unusual=unusual_words(texts, top=top, min_count=min_count),
    )


def _normalize(text: str) -> str:
    # Curly apostrophes are common in model output; one spelling keeps "don’t" and "don't" the same word. The swap
    # is one character for one, so loop offsets still index the caller's original text.
    return text.replace("\u2019", "'")


def _interrupted(text: str, matches: list[re.Match[str]], tokens: np.ndarray, first: int, n: int, last: int) -> bool:
    after = [str(token) for token in tokens[last : last + _INTERRUPT_WINDOW]]
    if _INTERRUPT_WORDS.intersection(after) or _INTERRUPT_PHRASES.intersection(itertools.pairwise(after)):
        return True
    # An ellipsis soon after the loop ("X X X X ...") counts, unless the loop already had one between every
    # repeat ("X... X... X... X..."), where it is part of the repeated text rather than a break from it.
    window_end = matches[last + _INTERRUPT_WINDOW].start() if last + _INTERRUPT_WINDOW < len(matches) else len(text)
    if not _ELLIPSIS.search(text, matches[last - 1].end(), window_end):
        return False
    gaps = [text[matches[j - 1].end() : matches[j].start()] for j in range(first + n, last, n)]
    return not all(_ELLIPSIS.search(gap) for gap in gaps)


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values)
