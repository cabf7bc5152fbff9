"""A labelled set for bench_question_suggestions.py: 48 solved cases on eight topics (three Russian,
three English each), each with the questions its mentor actually asked.

The case texts are those of bench/similar_labelled.py (realistic problems of novice teachers, with
their rubrics). The questions are what mentors ask on such a problem: per topic and language, four
clarifying questions a mentor of that topic tends to ask (``ASKED``; mentors word them alike, as in
the pilot's case records, so the same question recurs across similar cases, here and there with other
punctuation or case), the bank hints that fit the topic (``BANK_HINTS``), and now and then a
question of the mentor's own that no other case asks (``ODD``): nothing can suggest it, as in life.
Each case asks two or three of its topic's questions, one fitting bank hint and, every third case, an
odd one; outcomes and redefinitions are seeded, and every other case consented to publication.
"""

import random

from similar_labelled import OUTCOMES, TOPICS

ASKED = {
    "bullying": {
        "ru": [
            "Кто из взрослых уже знает о травле?",
            "Как давно это продолжается?",
            "Что говорит сам ученик, которого травят?",
            "Есть ли у ученика друзья в классе?",
        ],
        "en": [
            "Which adults already know about the bullying?",
            "How long has it been going on?",
            "What does the bullied pupil say about it?",
            "Does the pupil have any friends in the class?",
        ],
    },
    "homework": {
        "ru": [
            "Сколько времени занимает домашнее задание?",
            "Проверяете ли вы домашнее задание на уроке?",
            "Что говорят родители о домашних заданиях?",
            "Какие задания ученики всё-таки делают?",
        ],
        "en": [
            "How long does the homework take?",
            "Do you check the homework in class?",
            "What do the parents say about the homework?",
            "Which tasks do the pupils still do?",
        ],
    },
    "burnout": {
        "ru": [
            "Сколько часов в неделю вы работаете?",
            "Что раньше помогало вам восстановиться?",
            "С кем из коллег вы можете об этом поговорить?",
            "Когда вы в последний раз отдыхали?",
        ],
        "en": [
            "How many hours a week do you work?",
            "What used to help you recover?",
            "Which colleague can you talk to about it?",
            "When did you last take a real break?",
        ],
    },
    "flipped": {
        "ru": [
            "Есть ли у всех учеников доступ к интернету дома?",
            "Сколько длятся ваши видео?",
            "Как вы проверяете, что ученики посмотрели материал?",
            "Что вы делаете на уроке вместо объяснения?",
        ],
        "en": [
            "Do all pupils have internet access at home?",
            "How long are your videos?",
            "How do you check that the pupils watched the material?",
            "What do you do in class instead of explaining?",
        ],
    },
    "gifted": {
        "ru": [
            "Чем ученик занимается, когда закончил задание раньше всех?",
            "Участвует ли он в олимпиадах?",
            "Как к нему относятся одноклассники?",
            "Что думают его родители?",
        ],
        "en": [
            "What does the pupil do after finishing a task before everyone else?",
            "Does the pupil take part in olympiads?",
            "How do the classmates treat the pupil?",
            "What do the pupil's parents think?",
        ],
    },
    "adhd": {
        "ru": [
            "Есть ли у ученика заключение специалиста?",
            "На каких уроках ему легче?",
            "Работает ли в школе психолог или тьютор?",
            "Как вы договариваетесь с ним о правилах?",
        ],
        "en": [
            "Does the pupil have a specialist's assessment?",
            "In which lessons is it easier for the pupil?",
            "Is there a school psychologist or a tutor?",
            "How do you agree on rules with the pupil?",
        ],
    },
    "attestation": {
        "ru": [
            "Когда у вас аттестация?",
            "Что уже есть в вашем портфолио?",
            "Кто в школе отвечает за аттестацию?",
            "Какие открытые уроки вы уже проводили?",
        ],
        "en": [
            "When is your attestation?",
            "What is already in your portfolio?",
            "Who is in charge of attestation at your school?",
            "Which open lessons have you already given?",
        ],
    },
    "phones": {
        "ru": [
            "Есть ли в школе правило о телефонах?",
            "Что ученики делают в телефонах на уроке?",
            "Знают ли родители о проблеме?",
            "Используете ли вы телефоны в заданиях?",
        ],
        "en": [
            "Does the school have a rule about phones?",
            "What do the pupils do on their phones in class?",
            "Do the parents know about the problem?",
            "Do you ever use phones in the tasks?",
        ],
    },
}

BANK_HINTS = {
    "bullying": ["options-4", "swot-3"],
    "homework": ["options-1", "options-5"],
    "burnout": ["swot-1", "goals-3"],
    "flipped": ["options-3", "swot-4"],
    "gifted": ["goals-2", "options-6"],
    "adhd": ["options-8", "swot-2"],
    "attestation": ["planning-1", "goals-4"],
    "phones": ["options-7", "options-2"],
}

ODD = {
    "ru": [
        "А что вы сами чувствовали в тот момент?",
        "Какой у вас любимый урок в этом классе?",
        "Кто вас поддерживает дома?",
        "Что сказала бы ваша лучшая учительница?",
    ],
    "en": [
        "What did you feel at that moment?",
        "Which lesson in this class do you like best?",
        "Who supports you at home?",
        "What would your best teacher have said?",
    ],
}


def _variant(text, rng):
    """How mentors write the same question: now and then other punctuation or case."""
    roll = rng.random()
    if roll < 0.2:
        return text.rstrip("?") + " ?"
    if roll < 0.3:
        return text.lower()
    return text


def cases(seed=5):
    """The 48 solved cases: dicts with topic, language, essence, question, rubrics, problem_solved,
    publication_consent, redefined (the author redefined the case after the questions) and
    questions (bank_id or text, and kind), in a seeded order."""
    rng = random.Random(seed)
    found = []
    for topic, spec in TOPICS.items():
        if topic not in ASKED:
            continue
        for language in ("ru", "en"):
            sentences, questions = spec[language]
            for i in range(3):
                own = rng.sample(ASKED[topic][language], rng.choice((2, 2, 3)))
                asked = [{"text": _variant(q, rng), "kind": "clarifying"} for q in own]
                asked.append({"bank_id": rng.choice(BANK_HINTS[topic]), "kind": "developing"})
                if len(found) % 3 == 2:
                    asked.append({"text": rng.choice(ODD[language]), "kind": "developing"})
                problem_solved, _ = OUTCOMES[len(found) % len(OUTCOMES)]
                found.append(
                    {
                        "topic": topic,
                        "language": language,
                        "essence": sentences[i],
                        "question": questions[i % len(questions)],
                        "rubrics": list(spec["rubrics"]),
                        "problem_solved": problem_solved,
                        "publication_consent": len(found) % 2 == 0,
                        "redefined": rng.random() < 0.3,
                        "questions": asked,
                    }
                )
    return found


def queries():
    """New cases for timing: the held-out sentences of each topic (4th and 5th) with its last question."""
    return [
        {"essence": spec[language][0][i], "question": spec[language][1][-1], "rubrics": list(spec["rubrics"])}
        for topic, spec in TOPICS.items()
        if topic in ASKED
        for language in ("ru", "en")
        for i in (3, 4)
    ]
