"""The redaction corpus: personal data in the forms patients write it, and ordinary numbers.

``IDENTIFYING`` pairs a message with the identifier that must never be stored (compared as
its digits, or as an e-mail's name and domain). ``ORDINARY`` messages carry medical numbers
(ages, dates, durations, doses, weights, readings) that must come through unchanged.
"""

from __future__ import annotations

import unicodedata
from itertools import product
from typing import Iterable, List, Tuple

# Fullwidth digits (U+FF10..U+FF19), as some phone keyboards type them.
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))

NRIC_FORMS = [
    "900101-14-5678", "900101 14 5678", "900101145678", "900101-145678", "900101 - 14 - 5678",
    "900101\u201314\u20135678", "900101\u201114\u20115678", "900101\u00a014\u00a05678",
    "900101-14-5678".translate(FULLWIDTH), "851231 08-1234", "751115-10 4321", "020229-01-0007",
]  # fmt: skip
PHONE_FORMS = [
    "0123456789", "012-345 6789", "012 - 345 6789", "+60123456789", "+60 12-345 6789",
    "60123456789", "6012-345 6789", "012\u2011345\u20116789", "0123456789".translate(FULLWIDTH),
    "(03) 2141 2345", "03-2141 2345", "+44 20 7946 0958", "+65 6123 4567", "0060 12 345 6789",
    "011-2345 6789", "012.345.6789", "019 876 5432", "012\u00a0345\u00a06789",
]  # fmt: skip
GLUED_PHONES = ["hp0123456789", "tel:0198765432", "WA+60123456789", "no.0112345678"]
EMAIL_FORMS = [
    ("ali.abu@gmail.com", "ali.abu"), ("ali.abu @ gmail.com", "ali.abu"),
    ("ali.abu at gmail dot com", "ali.abu"),
    ("siti85(at)yahoo(dot)com", "siti85"), ("siti85 [at] yahoo [dot] com", "siti85"),
    ("Siti_85@yahoo.com.my", "Siti_85"), ("kumar.r@hospital.org.my", "kumar.r"),
    ("lim.weiling @ outlook . com", "lim.weiling"),
]  # fmt: skip
PASSPORT_FORMS = ["A12345678", "H23456789", "K1234567", "AB1234567", "a98765432"]
CARD_FORMS = [
    "4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5500 0000 0000 0004",
    "3400 000000 00009", "4012 8888 8888 1881", "6011 0000 0000 0004",
]  # fmt: skip
CONTEXTS = [
    "{}", "my ic is {}", "please call me {} thanks", "no saya {}", "boleh whatsapp {} tak",
    "this is my son's: {}.", "Hi, {} - can the physio call back?", "ayah saya punya {}, dia 70 tahun",
]  # fmt: skip


def digits(text: str) -> str:
    """The ASCII digits of ``text`` (fullwidth digits folded), in order."""
    return "".join(char for char in unicodedata.normalize("NFKC", text) if char.isdigit())


def identifying() -> List[Tuple[str, str]]:
    """(message, secret) pairs: the secret must not occur in what is stored."""
    pairs: List[Tuple[str, str]] = []
    for form, context in product([*NRIC_FORMS, *PHONE_FORMS, *CARD_FORMS], CONTEXTS):
        pairs.append((context.format(form), digits(form)))
    for form, context in product(PASSPORT_FORMS, CONTEXTS):
        pairs.append((context.format(form), form.upper()))
    for (form, secret), context in product(EMAIL_FORMS, CONTEXTS):
        pairs.append((context.format(form), secret))
    pairs += [(f"my {form} ok", digits(form)) for form in GLUED_PHONES]
    return pairs


IDENTIFYING = identifying()


def leaked(stored: Iterable[str], pairs: Iterable[Tuple[str, str]] = IDENTIFYING) -> List[str]:
    """The messages of ``pairs`` whose secret can still be read in one of the ``stored`` texts.

    A secret of digits is read in the digits of one text (whatever separates them there), any
    other secret case-blind. Texts are read one by one, never across two of them.
    """
    texts = list(stored)
    # A non-digit between texts keeps, say, a timestamp's last digits from joining the next value's.
    stored_digits = "|".join(digits(text) for text in texts)
    stored_lower = "|".join(texts).lower()
    return [
        message
        for message, secret in pairs
        if (secret in stored_digits if secret.isdigit() else secret.lower() in stored_lower)
    ]


DOSES = ["20mg", "20 mg", "0.5 mg", "1000 IU", "2,000 mg", "5ml", "2 tablets 3 times a day", "60 mg daily"]
DURATIONS = [
    "3 weeks",
    "6-8 weeks",
    "2 months",
    "1.5 years",
    "10 days",
    "48 hours",
    "since 2019",
    "from 2020 to 2023",
]
PEOPLE = [
    "my father is 65 years old",
    "i am 34",
    "she is 82 yo",
    "my son (12)",
    "mak saya 70 tahun",
    "a 5 year old",
]
READINGS = [
    "bp 120/80", "BP was 184/90", "HbA1c 7.5%", "eGFR 45", "creatinine 120 umol/L", "pain 7/10",
    "CK 2,400 U/L", "vitamin D 18 ng/ml", "B12 150 pmol/L", "TSH 0.01", "weight 75 kg",
    "lost 5 kg in 2 months", "180 cm 75 kg",
    "calf 34 cm vs 37 cm", "3 sets of 10 reps", "10000 steps a day", "grip 18 kg", "level 3 on the bike",
]  # fmt: skip
DATES = [
    "on 12/03/2024", "on 12.03.2024", "on 2024-05-12", "at 07:30", "from 08.00 - 17.00", "on the 5th of May",
    "on 01.02.2024", "in Oct 2025", "1990", "24/7",
]  # fmt: skip
PLACES = [
    "L4-L5",
    "C5-C6",
    "T12",
    "room 1203, ward 7",
    "bed 12",
    "RM150 per session",
    "stage 4",
    "grade 2",
    "Covid-19",
]


def ordinary() -> List[str]:
    """Messages with medical numbers in them, none identifying anyone."""
    messages = [
        f"{person}, on prednisolone {dose} for {duration}"
        for person, dose, duration in product(PEOPLE, DOSES[:4], DURATIONS[:4])
    ]
    messages += [
        f"{reading} {date}, is that why my legs are weak?" for reading, date in product(READINGS, DATES)
    ]
    messages += [f"{place} problem for {duration}" for place, duration in product(PLACES, DURATIONS)]
    return messages


ORDINARY = ordinary()
