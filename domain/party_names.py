"""Normalising party names, addresses, postal codes and tax ids for matching (docs/IDENTITY.md).

Pure and deterministic: the same text always gives the same key, on every machine.

Names: accents dropped (NFKD, combining marks removed), case folded ("ß" → "ss"), "&"
read as "and", dots and apostrophes removed inside words ("S.A." → "sa", "O'Neil" →
"oneil"), every other punctuation mark a blank, blanks collapsed; then a leading "the" and
the trailing legal-form words ("Inc", "LLC", "GmbH & Co. KG", "Co., Ltd.") are dropped,
unless nothing else is left ("The Company" stays "company"). Legal forms are only dropped
at the end, where they stand in a company's name: "Limited Edition Audio" keeps "limited".

Addresses: the same, with the common street words abbreviated alike ("Street" → "st",
"Straße" → "str") and ordinals without their suffix. Postal codes: upper case, no blanks
or dashes. Tax ids: upper case, letters and digits only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

#: Legal-form words as they read after normalisation (dots removed: "S.A." is "sa").
LEGAL_FORMS: Final = frozenset(
    {
        "ab", "ag", "as", "bv", "bvba", "co", "company", "corp", "corporation", "cv", "eg",
        "gmbh", "inc", "incorporated", "kft", "kg", "kk", "limited", "llc", "llp", "lp",
        "ltd", "ltda", "mbh", "nv", "oy", "oyj", "plc", "pte", "pty", "sa", "sab", "sarl",
        "sas", "spa", "sl", "sp", "srl", "sro", "zoo",
    }
)  # fmt: skip
#: Words that only join legal forms ("GmbH & Co. KG"): dropped with them at the end.
_JOINERS: Final = frozenset({"and", "und", "et", "y"})
#: Address words written alike, whichever way a distributor spells them.
ADDRESS_WORDS: Final = {
    "street": "st", "str": "str", "strasse": "str", "avenue": "ave", "av": "ave",
    "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln", "place": "pl",
    "court": "ct", "suite": "ste", "building": "bldg", "floor": "fl", "north": "n",
    "south": "s", "east": "e", "west": "w", "highway": "hwy", "parkway": "pkwy",
    "square": "sq", "number": "no", "nr": "no",
}  # fmt: skip

_JOINED: Final = re.compile(r"(?<=\w)[.'’](?=\w)")
_PUNCTUATION: Final = re.compile(r"[^\w\s]|_")
_ORDINAL: Final = re.compile(r"^(\d+)(st|nd|rd|th)$")
_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]")


def fold(text: str) -> list[str]:
    """The words of `text`: accents dropped, case folded, punctuation removed."""
    plain = text
    if not text.isascii():  # ASCII is its own NFKD form, without combining marks
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.casefold().replace("&", " and ").replace("+", " and ")
    plain = _JOINED.sub("", plain)
    plain = plain.replace(".", "")  # a trailing dot ("Inc.") ends a word, it splits none
    return _PUNCTUATION.sub(" ", plain).split()


def name_words(name: str) -> list[str]:
    """A party name's words with a leading "the" and the trailing legal form dropped."""
    words = fold(name)
    core = words[1:] if len(words) > 1 and words[0] == "the" else words
    end = len(core)
    while end > 0 and (core[end - 1] in LEGAL_FORMS or core[end - 1] in _JOINERS):
        end -= 1
    return core[:end] or core


def normalise_name(name: str) -> str:
    """The name as matching compares it: "Müller & Söhne GmbH & Co. KG" → "muller and sohne"."""
    return " ".join(name_words(name))


def normalise_address(address: str) -> str:
    """The address as matching compares it: "12th Main Street, Suite 4" → "12 main st ste 4"."""
    words = []
    for word in fold(address):
        ordinal = _ORDINAL.match(word)
        if ordinal is not None:
            word = ordinal.group(1)
        elif word.endswith("strasse") and word != "strasse":
            word = word[: -len("strasse")] + " str"
        words.append(ADDRESS_WORDS.get(word, word))
    return " ".join(words)


def normalise_postal(postal_code: str) -> str:
    """ "sw1a 1aa" → "SW1A1AA", "94105-1804" → "941051804"."""
    return _NOT_ALNUM.sub("", postal_code.upper())


def normalise_tax_id(tax_id: str) -> str:
    """ "de 123-456 789" → "DE123456789": what tax authorities print differs only in blanks
    and separators."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", tax_id).upper())
