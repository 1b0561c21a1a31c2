"""Offline detection of Malay (and Malay-heavy Manglish) messages.

Patients write short, informal messages, where statistical language identifiers guess
poorly; a list of common Malay words that English does not use decides more reliably,
needs no model and no network.
"""

from __future__ import annotations

import re
from typing import Optional

ENGLISH = "en"
MALAY = "ms"

_MALAY_WORDS = frozenset(
    """
    saya aku awak anda kamu dia kami kita mereka boleh tak tidak bukan ke kah ka apa apakah
    macam mana bagaimana kenapa mengapa bila bilakah berapa lama dan yang untuk dengan ada
    ini itu nak hendak mahu mau sudah dah belum masih lagi pun jadi buat kalau jika tapi
    tetapi atau sebab kerana selepas lepas sebelum semasa otot sakit kaki tangan badan lemah
    kurus kecut mengecut pulih sembuh balik rawatan rawat ubat ubatan senaman makan makanan
    pemakanan cegah elak mencegah mengelak punca tanda simptom fisioterapi kekal lumpuh cacat
    kecemasan tolong segera sesak nafas bernafas menelan dada jatuh pengsan kebas sebelah
    terima kasih selamat pagi petang malam tinggal jumpa hai helo salam temujanji tempah
    hubungi klinik nombor telefon orang manusia betul ya tak nak minggu bulan tahun hari
    mak ayah bapa ibu emak adik abang kakak atuk nenek anak suami isteri saja je sahaja
    atrofi penyakit saraf tulang belakang kanser buah pinggang steroid protein kurang
    berlaku menyebabkan selalu sangat sikit banyak kena perlu patut dapat cuba baik
    """.split()
)
_WORD = re.compile(r"[a-z]+")


def detect_language(message: str, previous: Optional[str] = None) -> str:
    """Returns ``ms`` for a Malay or Malay-heavy message, ``en`` otherwise.

    Args:
        message: The patient's text.
        previous: The conversation's language so far, kept when the message has no
            words (a button payload, an emoji, a number).

    Returns:
        A language code, ``en`` or ``ms``.

    """
    words = _WORD.findall(message.lower())
    if message.startswith("/") or not words:
        return previous or ENGLISH
    malay = sum(word in _MALAY_WORDS for word in words)
    if malay >= 2 and malay / len(words) >= 0.25:
        return MALAY
    if malay and len(words) <= 2:
        return MALAY
    return ENGLISH
