"""Offline detection of Malay (and Malay-heavy Manglish) messages.

Patients write short, informal messages, where statistical language identifiers guess
poorly; a list of common Malay words that English does not use decides more reliably,
needs no model and no network.
"""

from __future__ import annotations

import re
from typing import Any, Optional

ENGLISH = "en"
MALAY = "ms"
LANGUAGES = (ENGLISH, MALAY)

_MALAY_WORDS = frozenset(
    """
    saya aku awak anda kamu dia kami kita mereka korang boleh tak tidak bukan ke kah ka apa
    apakah macam mana bagaimana kenapa mengapa bila bilakah berapa lama dan yang untuk dengan
    ada ini itu ni tu nak hendak mahu mau sudah dah belum masih lagi pun jadi buat kalau jika
    tapi tetapi atau sebab kerana selepas lepas sebelum semasa masa otot sakit kaki tangan
    badan lemah kurus kecut mengecut kecik kecil susut pulih sembuh balik rawatan rawat ubat
    ubatan senaman makan makanan pemakanan cegah elak mencegah mengelak pencegahan punca tanda
    simptom fisioterapi fisioterapis kekal lumpuh cacat kecacatan kecemasan tolong segera sesak
    nafas bernafas menelan telan dada jatuh pengsan kebas sebelah terima kasih makasih mksh
    tenkiu selamat pagi petang tengahari malam tinggal jumpa hai helo salam assalamualaikum
    temujanji tempah hubungi klinik nombor telefon orang manusia betul ye tak nak minggu bulan
    tahun hari mak ayah bapa ibu emak adik abang kakak atuk nenek anak suami isteri saja je
    sahaja atrofi penyakit saraf tulang belakang kanser buah pinggang steroid kurang
    berlaku menyebabkan selalu sangat sikit banyak kena perlu patut dapat cuba baik siapa
    sebenarnya teruskan terus dulu ahad isnin selasa rabu khamis jumaat sabtu buka tutup harga
    sesi satu dua tiga cerita lawak sendi rasa kaku susah gerak bergerak berjalan jalan
    sekarang nanti esok semalam tadi dekat sini situ sana kat dalam luar atas bawah juga
    takut risau bimbang okey takpe takde tiada tahu bagi beri guna pakai hilang besar kuat
    kembali semula tumbuh ambil perlukah bolehkah adakah kencing manis darah tinggi lutut bahu
    pinggang leher kepala lengan betis peha paha muka mata tidur rehat baring terlantar katil
    simen wad doktor jururawat bantu membantu peranan faedah kesan bahaya teruk cepat
    perlahan sikit sedikit semua setiap lain macamana camne camana pastu lepastu apasal
    terimakasih setuju panggil ambulans masak nasi pisang kereta fisio
    """.split()
)
# Malay suffixes and clitics that attach to a word the list knows ("puncanya", "pulihkan").
_MALAY_SUFFIXES = ("nya", "kan", "lah", "kah", "an", "i")
_WORD = re.compile(r"[a-z]+")


def _is_malay(word: str) -> bool:
    if word in _MALAY_WORDS:
        return True
    return any(
        word.endswith(suffix) and word[: -len(suffix)] in _MALAY_WORDS and len(word) - len(suffix) >= 4
        for suffix in _MALAY_SUFFIXES
    )


def page_language(metadata: Any) -> Optional[str]:
    """Returns the page language a client sent in a message's metadata, if it is one we speak.

    Args:
        metadata: A message's metadata, as the client sent it (anything at all).

    Returns:
        ``en`` or ``ms``, or None when the metadata names no such language.

    """
    language = metadata.get("language") if isinstance(metadata, dict) else None
    return language if isinstance(language, str) and language in LANGUAGES else None


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
    malay = sum(_is_malay(word) for word in words)
    # Short messages ("ahad buka tak") carry few words, so one Malay word in three decides;
    # longer English-led Manglish ("my legs so thin, can pulih or not") needs more.
    if malay and (len(words) <= 3 or malay / len(words) >= 0.25):
        return MALAY
    # "ok", "tq", "thank you" say nothing about the language: keep the conversation's.
    if len(words) <= 2 and previous:
        return previous
    return ENGLISH


def reply_language(text: str, conversation: Optional[str] = None, metadata: Any = None) -> str:
    """Returns the language to reply in: the one rule every channel and action follows.

    The text decides when it shows a language; a message that shows none ("/greet", a
    button, "ok") keeps the conversation's language, or before the conversation has one,
    takes the page's (the web chat sends it as the message's metadata).

    Args:
        text: The patient's latest message.
        conversation: The conversation's language so far (the ``language`` slot), if any.
        metadata: The message's metadata as the client sent it.

    Returns:
        ``en`` or ``ms``.

    """
    return detect_language(text, previous=conversation or page_language(metadata))
