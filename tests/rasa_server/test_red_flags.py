"""The red-flag safety net: which phrases fire, that they cost no other answer, and that they win."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from rasa_server.red_flags import DEFAULT_PHRASES_FILE, RedFlagClassifier, red_flag
from tooling.nlu_files import EVALUATION_SETS, PARAPHRASE_FILE, SPLIT_FILES, nlu_examples, training_files
from tooling.running_bot import RunningBot

# The real questions of the training split and their paraphrases (docs/nlu.md).
REAL_POSTS = [SPLIT_FILES["train"], PARAPHRASE_FILE]


@pytest.mark.parametrize(
    "text",
    [
        "i feel like ending my life",
        "I want to kill myself",
        "so much blood from the cut and it won't stop",
        "I can\u2019t breathe",  # a phone's curly apostrophe
        "my dad collapsed in the kitchen",
        "she is having a seizure",
        "saya rasa nak bunuh diri",
        "mak pengsan tak sedarkan diri",
        "suami saya tiba-tiba sesak nafas",
        # asking whether it is an emergency, or whether to go now
        "when does a bad back become a medical emergency?",
        "my leg went weak this afternoon, should we go to the ER?",
        "is it better to drive him in ourselves than waiting for an ambulance?",
        "when should grandpa be taken to hospital after a fall?",
        # a sudden, very bad headache; breath that will not come
        "then came the worst headache I have ever had",
        "it felt like something burst in my head",
        "she suddenly couldn't get a full breath lying down",
        "could my mum have had a mild stroke while she slept?",
        "why can't I stand all of a sudden?",
        "pagi tadi senyum ayah nampak senget",
        "tiba-tiba lengan kiri dia jatuh terkulai",
        "we found nan lying on the floor for at least ten hours, cold and confused",
        "halfway round the shops my right leg just stopped working",
        "then suddenly it was as if he'd forgotten how to walk",
        "two days after the spin class I am passing cola-coloured pee, is that normal?",
        "how weak do my legs have to get before we need to go to A&E?",
        "the nurse mentioned cord compression, what do we do now?",
        # an arm or leg gone weak out of nowhere; walking or sight suddenly lost
        "why has granddad all of a sudden stopped being able to stand?",
        "chest feels tight after the fall, do you go to A&E for that or wait?",
        "my left leg went heavy and numb out of nowhere while I was cooking",
        "out of nowhere my right hand felt dead and I dropped my cup",
        "this morning mum suddenly lost the vision in her left eye",
        "tiba-tiba ayah tak nampak dengan mata kiri",
        # session 25: chest pains in other words, "is this an emergency?", urgent care, a plan
        # with the means, a limb found paralysed on waking, a drooping face, a fall, "can you
        # have a stroke", walking or standing stopped out of nowhere
        "sharp pains in my chest when I climb the stairs",
        "is this an emergency or can it wait for the clinic on Monday?",
        "could this be an emergency? both legs went numb after lifting",
        "do we need to go to urgent care for this weakness?",
        "I have made a plan and saved enough pills",
        "she woke up this morning and her left leg was completely paralysed",
        "what does a drooping mouth mean in an older person?",
        "if grandpa falls down at night, what should we do?",
        "can you have a stroke in your sleep without knowing?",
        "last week out of nowhere she stopped walking",
        "then my left foot, just stopped working while I was out",
        # session 28: "am I having a stroke?", another stroke or a TIA asked about, blue lips,
        # a myasthenic crisis, a side of the face sagging now, "does it need urgent care?"
        "my arm is tingling and my words feel thick, am I having a stroke",
        "grandpa is muddled this morning, has he had another stroke?",
        "it lasted ten minutes, was it a TIA?",
        "her lips are going blue and she is wheezing",
        "anak saya bibir dah membiru lepas jatuh dalam kolam",
        "is this the start of a myasthenic crisis?",
        "the right side of her face is sagging since breakfast",
        "at what point does a slipped disc need emergency surgery?",
        "we are driving, should we head to the ER or straight to his GP?",
    ],
)
def test_red_flag_phrases_fire_in_english_and_malay(text: str) -> None:
    assert red_flag(text)


@pytest.mark.parametrize(
    "text",
    [
        "My husband is 58 and fit. This morning he suddenly felt his left arm and leg go weak, "
        "he says it is nothing, should we wait and see if physio helps?",
        "a week ago my feet started tingling, now the numbness is spreading up to my knees and my "
        "hands are weak too, is this muscle atrophy?",
        "my father couldn't lift his right arm all of a sudden at dinner, is it a pinched nerve?",
        "her face looks droopy on one side and her speech is slurring since lunch",
        "sciatica for years, but since yesterday I can't feel my groin and I can't control my bladder",
        "grandma fell in the bathroom and can't get up, she is so thin now",
        "tiba-tiba tangan dan kaki sebelah kiri ayah lemah pagi tadi",
        "mak jatuh dalam bilik air, kepala terhantuk dan dia asyik muntah",
        "back pain with sciatica and since this morning my bladder won't empty",
        "grandad fell in the garden and was on the floor for three hours before anyone came",
        "both arms feel weak and lifting the kettle is getting harder and harder over the past few hours",
        "the tingling in my toes is slowly creeping upwards over the past week and now my hands are numb",
        "ayah kata separuh badan kanan dia kebas dan lemah semalam, tapi lepas sejam elok balik",
        "isteri saya berdiri kaku depan pintu, mata terbeliak, panggil pun dia tak menyahut",
        "did a brutal crossfit class on Saturday and now both my arms are swollen and tight",
        "her myasthenia is flaring: seeing double since yesterday and now struggling to swallow",
        "slipped disc at L5 and this week I keep leaking urine when I stand up",
    ],
)
def test_warning_signs_told_inside_a_story_fire(text: str) -> None:
    assert red_flag(text)


@pytest.mark.parametrize(
    "text",
    [
        "is muscle atrophy reversible",
        "I have had numbness in my left hand for two years since my neck injury, will the muscle come back?",
        "my left calf is weaker than the right since the back surgery last year",
        "my dad fell last year and broke his hip, he has lost so much muscle since",
        "twitching all over for months, worried about ALS, doctor says benign",
        "my legs are weak after bed rest",
        "otot saya mengecil",
        "I'm dying to know more",
        "he had a stroke two years ago, his mouth is not crooked, how do we rebuild his arm?",
        "mulut tak senget, cuma tangan lemah sejak strok tahun lepas",
        "my mother is bedbound and incontinent after years of Parkinson's, how do we keep her muscles?",
        "she went to the ER last year after a fall and has been weak since",
        "since her stroke three years ago her left hand stopped working properly, can physio help?",
        "my arms are swollen after the lymph node surgery, will the muscles shrink?",
        "the ER is a long drive from us, can physio at home rebuild his legs?",
        # session 25: words the safety net now reads past
        "I kill myself in the gym five days a week, why are my arms still thin?",
        "my son wants protein powder, I think it's about fitting in with the older boys",
        "tanda-tanda strok nak pulih macam mana?",
        "physio is not an emergency service, so when can I book?",
        "my leg goes numb when I sit cross-legged for too long, is that atrophy?",
        "my vision has been slowly getting blurry for years, could that be from weak eye muscles?",
        "out of nowhere I started losing weight and muscle on my arms, what causes that?",
        # session 28: a past stroke or TIA told as history, a face that sagged once, climbing,
        # spreading one's fingers
        "he had a TIA last year and his grip is weaker since, can physio help?",
        "has she had a stroke before? the form asks and I am not sure",
        "since the Bell's palsy in spring the left side of her face had sagged, it is better now",
        "after a week of climbing my fingers feel weak and a bit numb for days, is that atrophy?",
        "for days my thumb is weak and sore when I spread my fingers, is that atrophy?",
    ],
)
def test_ordinary_questions_raise_no_red_flag(text: str) -> None:
    assert red_flag(text) is None


def _examples(paths: List[Path]) -> List[Tuple[str, str]]:
    return [pair for path in paths for pair in nlu_examples(path)]


def test_no_red_flag_fires_on_any_other_intent_of_the_written_training_and_held_out_sets() -> None:
    # Every phrase pre-empts the answer to any question containing it; keep that cost at zero here.
    paths = [path for path in training_files() if path not in REAL_POSTS]
    paths += [path for files in EVALUATION_SETS.values() for path in files.values()]
    fired = [(text, intent) for text, intent in _examples(paths) if intent != "emergency" and red_flag(text)]
    assert fired == []


def test_red_flags_raise_at_most_two_percent_false_alarms_on_real_posts_in_training() -> None:
    # Real stories mention old strokes and breathlessness; the rate, not zero, is the target there.
    # (make eval reports the rate on the held-out splits, docs/nlu.md.)
    calm = [text for text, intent in _examples(REAL_POSTS) if intent != "emergency"]
    assert sum(bool(red_flag(text)) for text in calm) / len(calm) <= 0.02


def test_the_classifier_puts_emergency_first_and_keeps_the_rest_of_the_ranking() -> None:
    component = RedFlagClassifier(DEFAULT_PHRASES_FILE)
    ranking = [{"name": "nlu_fallback", "confidence": 0.55}, {"name": "out_of_scope", "confidence": 0.4}]
    flagged = Message(
        data={TEXT: "i feel like ending my life", INTENT: ranking[0], INTENT_RANKING_KEY: ranking}
    )
    ordinary = Message(
        data={TEXT: "what is atrophy", INTENT: {"name": "muscle_atrophy_overview", "confidence": 0.9}}
    )

    component.process([flagged, ordinary])

    assert flagged.get(INTENT) == {"name": "emergency", "confidence": 1.0}
    assert [item["name"] for item in flagged.get(INTENT_RANKING_KEY)] == [
        "emergency",
        "nlu_fallback",
        "out_of_scope",
    ]
    assert ordinary.get(INTENT)["name"] == "muscle_atrophy_overview"


def test_a_broken_phrases_file_fails_when_the_model_loads(tmp_path: Path) -> None:
    broken = tmp_path / "red_flags.yml"
    broken.write_text("phrases:\n  english:\n    - (unclosed\n")
    with pytest.raises(re.error):
        RedFlagClassifier(broken)


@pytest.mark.parametrize(
    "text", ["i feel like ending my life", "the bleeding won't stop", "ayah saya pengsan"]
)
def test_a_red_flag_gets_the_emergency_reply_over_rest(bot: RunningBot, text: str) -> None:
    replies = bot.send(f"red-flag-{abs(hash(text))}", text)
    assert "999" in replies[0]["text"]
