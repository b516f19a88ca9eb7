"""Crisis signals in a family message ("urgent words", PRODUCT.md §2.3).

An urgent message gets 112 and the crisis numbers at once, whatever the hour, and is flagged for
the coach. The lists are deliberately broad: a false alarm costs the family one extra line of
phone numbers, a miss can cost much more. They are not absurd: "bang" (afraid) alone, "dood" in
"de kat is dood", or "help" inside "helpt" are no signal.

Matching is on whole words after normalising case, accents, Arabic letter variants and
punctuation, so "Zelfmoord!" matches "zelfmoord" but "helpt" does not match "help", and "112"
inside a number ("06-112-34567", "01123", "1,12") is no signal. A pattern word may carry a `*`:
"zelfmoord*" matches "zelfmoordgedachten", "*geweld" matches "partnergeweld", "*شرطه*" matches
Arabic words with attached prefixes or suffixes. A pattern of several words matches those words
in sequence.

The family's language list is checked together with Dutch and English (families mix languages,
and nl/en words such as "112", "help" and "politie" are understood by everyone here); with no
language known, every list is checked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

SIGNALS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "nl": (
            # suicide and self-harm
            "zelfmoord*", "zelfdoding", "suicid*", "ik wil dood", "wil dood", "dood willen",
            "niet meer leven", "niet meer willen leven", "er een eind aan maken",
            "er een einde aan maken", "einde aan mijn leven", "eind aan mijn leven",
            "mezelf iets aandoen", "mezelf wat aandoen", "mezelf pijn doen", "mezelf snijden",
            "snij mezelf", "zelfbeschadig*", "automutil*", "overdosis", "pillen geslikt",
            "ik kan niet meer",
            # violence and abuse
            "geweld", "*geweld", "mishandel*", "misbruik*", "slaat me", "slaat mij", "sloeg me",
            "sloeg mij", "slaat ons", "slaat de kinderen", "geslagen", "schopt me", "geschopt",
            "bedreig*", "dreigt me", "dreigt mij", "dreigt ons", "dreigde me", "dreigde mij",
            "wurg*", "gewurgd", "verkracht*", "aanrand*", "pistool", "wapen",
            # not "mes" alone: it is French for "my" ("mes enfants")
            "een mes", "het mes", "zijn mes", "haar mes", "met een mes",
            "niet veilig", "onveilig", "durf niet naar huis",
            # help and emergency services
            "help", "hulp", "red me", "sos", "nood", "noodgeval", "noodnummer", "spoed", "112",
            "politie", "ambulance", "ziekenwagen", "brandweer",
        ),
        "en": (
            "suicid*", "kill myself", "killing myself", "want to die", "wanna die",
            "end my life", "end it all", "don't want to live", "dont want to live",
            "self harm*", "selfharm*",
            "hurt myself", "hurting myself", "cut myself", "cutting myself", "overdose*",
            "violence", "violent", "abuse*", "abusive", "abusing", "hits me", "hit me",
            "hitting me", "beats me", "beat me", "beaten", "kicks me", "kill me",
            "threaten*", "rape*", "molest*", "strangl*", "choked me", "knife", "weapon",
            # not "gun" alone: Dutch "ik gun je ..." is everyday speech
            "a gun", "the gun", "his gun", "her gun",
            "danger", "not safe", "unsafe",
            "help", "help me", "sos", "emergency", "112", "call 911", "call 999", "police",
            "ambulance",
        ),
        "fr": (
            "suicid*", "me tuer", "me suicider", "veux mourir", "envie de mourir", "en finir",
            "me faire du mal", "scarifi*", "overdose",
            "violence*", "violent*", "me frappe", "m'a frappé", "il frappe", "elle frappe",
            "battu", "battue", "maltrait*", "abus", "abusé*", "viol", "violé*", "agress*",
            "menace*", "couteau", "arme", "danger", "pas en sécurité",
            "au secours", "secours", "aidez-moi", "aide-moi", "à l'aide", "besoin d'aide",
            "urgence", "112", "police", "ambulance", "pompiers", "samu",
        ),
        "ar": (
            "*انتحار*", "انتحر*", "اقتل نفسي", "أريد أن أموت", "بدي موت", "أؤذي نفسي",
            "*عنف", "يضربني", "ضربني", "يضربنا", "يضرب الأطفال", "*اعتداء", "*اغتصاب*",
            "*تحرش*", "يهددني", "*تهديد", "سكين", "سلاح", "في خطر", "خطر",
            "ساعدني", "ساعدوني", "*النجدة", "نجدة", "*مساعدة", "*شرطة*", "*إسعاف*", "طوارئ",
            "112",
        ),
        "tr": (
            "intihar*", "kendimi öldür*", "ölmek istiyorum", "yaşamak istemiyorum",
            "kendime zarar*", "şiddet*", "dayak", "beni döv*", "dövüyor", "dövdü", "istismar*",
            "taciz*", "tecavüz*", "tehdit*", "bıçak", "silah", "tehlike*", "güvende değilim",
            "yardım", "yardım edin", "imdat", "acil", "polis*", "ambulans", "112",
        ),
        "pl": (
            "samobój*", "zabić się", "zabiję się", "chcę umrzeć", "nie chcę żyć",
            "samookalecz*", "tnę się",
            "przemoc*", "bije mnie", "mnie bije", "pobił*", "znęca się", "znęcanie", "molestow*",
            "zgwałc*", "gwałt", "grozi mi", "groźb*", "nóż", "niebezpieczeństw*",
            "nie jestem bezpieczna", "nie jestem bezpieczny",
            "pomocy", "pomóż mi", "pomóżcie", "ratunku", "pogotowie", "karetk*", "policj*",
            "112",
        ),
        "uk": (
            "самогуб*", "суїцид*", "вбити себе", "вб'ю себе", "покінчити з собою",
            "хочу померти", "не хочу жити",
            "насильств*", "б'є мене", "бив мене", "побив*", "знущ*", "зґвалт*", "ґвалт*",
            "погрож*", "зброя", "небезпек*",
            "допоможіть", "допоможи", "допомога", "допомоги", "рятуйте", "поліці*", "швидку",
            "112",
            # Russian, which many Ukrainian families also write.
            "самоубий*", "суицид*", "хочу умереть", "убью себя", "насили*", "бьет меня",
            "помогите", "помогите мне", "полици*",
        ),
    }
)  # fmt: skip

_ALWAYS_CHECKED = ("nl", "en")
_LETTER_MAP = str.maketrans(
    {
        "ı": "i",  # Turkish dotless i
        "ł": "l",  # Polish
        "ø": "o",
        "đ": "d",
        "æ": "ae",
        "œ": "oe",
        "ى": "ي",  # Arabic alef maksura written for ya
        "ة": "ه",  # Arabic ta marbuta, often written as ha
        "ـ": "",  # Arabic tatweel (stretching)
        "🆘": " sos ",
    }
)
# A number keeps its inner punctuation, so "06-112-34567" and "1,12" are not "112".
_WORD = re.compile(r"\d+(?:[-./:,]\d+)*|[^\W\d_]+")


def _normalise(text: str) -> str:
    text = text.casefold().translate(_LETTER_MAP)
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue  # accents, Arabic vowel marks, hamza and madda
        if char.isdigit():
            char = str(unicodedata.decimal(char, char))  # Arabic-Indic digits too
        kept.append(char)
    # Casefold again: decomposition can uncover letters (e.g. the Turkish capital İ).
    return "".join(kept).casefold().translate(_LETTER_MAP)


def words(text: str) -> tuple[str, ...]:
    """The normalised words of `text`, as the matcher sees them."""
    return tuple(_WORD.findall(_normalise(text)))


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 2:
        return pattern[1:-1] in word
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return word.endswith(pattern[1:])
    return word == pattern


def _sequence(pattern: str) -> tuple[str, ...]:
    """A pattern as normalised words, keeping its `*` marks ("m'a frappé*" -> m, a, frappe*)."""
    sequence: list[str] = []
    for piece in pattern.split():
        parts = list(words(piece.strip("*")))
        if not parts:
            continue
        if piece.startswith("*"):
            parts[0] = "*" + parts[0]
        if piece.endswith("*"):
            parts[-1] += "*"
        sequence.extend(parts)
    return tuple(sequence)


@lru_cache(maxsize=16)
def _compiled(language: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((pattern, _sequence(pattern)) for pattern in SIGNALS[language])


def _languages(language: str | None) -> tuple[str, ...]:
    if language is None or language not in SIGNALS:
        return tuple(SIGNALS)
    return tuple(dict.fromkeys((language, *_ALWAYS_CHECKED)))


def urgent_signals(text: str, language: str | None) -> tuple[str, ...]:
    """The signal patterns found in `text` (for tests and review; never log message content)."""
    text_words = words(text)
    found: list[str] = []
    for checked in _languages(language):
        for pattern, sequence in _compiled(checked):
            if _contains(text_words, sequence) and pattern not in found:
                found.append(pattern)
    return tuple(found)


def _contains(text_words: tuple[str, ...], sequence: Iterable[str]) -> bool:
    sequence = tuple(sequence)
    size = len(sequence)
    for start in range(len(text_words) - size + 1):
        if all(
            _word_matches(pattern, word)
            for pattern, word in zip(sequence, text_words[start : start + size], strict=True)
        ):
            return True
    return False


def is_urgent(text: str, language: str | None) -> bool:
    """Whether `text` carries a crisis signal in `language`, Dutch or English."""
    return bool(urgent_signals(text, language))
