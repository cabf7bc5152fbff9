"""Generated library items for bench_library_search.py: Russian and English case text.

Sentences are assembled from per-topic word banks (about 60 % of the items Russian, 40 %
English), so common words ("ученики", "parents") occur in a large share of the items and each
word of ``RARE_RU`` / ``RARE_EN`` in about one item in a thousand: the two kinds of query a
library search must answer fast.
"""

import random

from contracts.rubrics import RUBRIC_SLUGS

RU = {
    "subjects": [
        "ученики 7 класса",
        "мои ученики",
        "родители учеников",
        "коллеги по кафедре",
        "завуч",
        "классный руководитель",
        "старшеклассники",
        "ученики начальной школы",
        "администрация школы",
        "один ученик",
        "группа девочек",
        "подростки",
    ],
    "verbs": [
        "отказываются выполнять",
        "постоянно срывают",
        "жалуются на",
        "не понимают",
        "игнорируют",
        "обсуждают в чате",
        "критикуют",
        "не успевают сдать",
        "просят перенести",
        "спорят из-за",
    ],
    "objects": [
        "домашние задания",
        "контрольную работу",
        "правила поведения",
        "оценки за четверть",
        "проектную работу",
        "дисциплину на уроке",
        "расписание консультаций",
        "школьную форму",
        "дистанционные уроки",
        "родительское собрание",
        "итоговую аттестацию",
        "групповую работу",
    ],
    "tails": [
        "уже вторую неделю",
        "после каникул",
        "на каждом уроке",
        "в электронном дневнике",
        "при администрации",
        "несмотря на мои просьбы",
        "и я не знаю, что делать",
        "хотя я объяснял несколько раз",
        "во время перемены",
        "в родительском чате",
    ],
    "questions": [
        "Как вернуть доверие класса?",
        "Что мне сказать родителям?",
        "Как выстроить дисциплину?",
        "Как мотивировать учеников к учёбе?",
        "Как разрешить конфликт с коллегой?",
        "Какие нормы закона здесь применимы?",
        "Как организовать групповую работу?",
        "Как оценивать проектные работы справедливо?",
    ],
    "solutions": [
        "Договоритесь с классом о трёх простых правилах и обсудите их вместе.",
        "Проведите встречу с родителями и покажите конкретные примеры работ.",
        "Попробуйте разделить задание на короткие шаги с понятными критериями.",
        "Обратитесь к локальным актам школы и уточните свои права и обязанности.",
        "Используйте формирующее оценивание и регулярную обратную связь.",
        "Предложите ученикам выбор формата выполнения домашнего задания.",
    ],
}
EN = {
    "subjects": [
        "pupils of my 7th form",
        "my students",
        "the parents",
        "colleagues in my department",
        "the deputy head",
        "a group of teenagers",
        "one pupil",
        "senior students",
        "the administration",
    ],
    "verbs": [
        "refuse to do",
        "keep disrupting",
        "complain about",
        "do not understand",
        "ignore",
        "argue about",
        "criticise",
        "fail to hand in",
        "ask to postpone",
        "laugh at",
    ],
    "objects": [
        "their homework",
        "the test",
        "the class rules",
        "the term grades",
        "the project work",
        "discipline in lessons",
        "the online lessons",
        "the parents' meeting",
        "the final exam",
        "group work",
        "the reading list",
    ],
    "tails": [
        "for two weeks now",
        "after the holidays",
        "in every lesson",
        "in the class chat",
        "in front of the head",
        "despite my requests",
        "and I do not know what to do",
        "although I explained it several times",
    ],
    "questions": [
        "How do I win back the trust of the class?",
        "What should I tell the parents?",
        "How do I restore discipline?",
        "How can I motivate them to learn?",
        "How do I resolve a conflict with a colleague?",
        "Which rules of law apply here?",
        "How do I grade projects fairly?",
    ],
    "solutions": [
        "Agree three simple class rules together with the pupils.",
        "Meet the parents and show concrete examples of the work.",
        "Split the task into short steps with clear criteria.",
        "Check the school's local regulations for your rights and duties.",
        "Use formative assessment and regular feedback.",
        "Let the pupils choose the format of their homework.",
    ],
}
RARE_RU = [
    "дисграфия",
    "дискалькулия",
    "тьюторство",
    "портфолио",
    "квест",
    "геймификация",
    "медиация",
    "буллинг",
    "эмпатия",
    "самоопределение",
    "профориентация",
    "наставничество",
    "выгорание",
    "инклюзия",
    "одарённость",
    "билингвизм",
    "краеведение",
    "робототехника",
    "волонтёрство",
    "медиаграмотность",
]
RARE_EN = [
    "dyslexia",
    "dyscalculia",
    "tutoring",
    "portfolio",
    "gamification",
    "mediation",
    "bullying",
    "empathy",
    "burnout",
    "inclusion",
    "giftedness",
    "bilingualism",
    "robotics",
    "volunteering",
    "podcast",
    "debate",
    "mindfulness",
    "scaffolding",
    "storytelling",
    "chess",
]
RARE_P = 0.001  # per item and rare word list: about one item in a thousand has a given rare word


def _sentence(rng, bank, rare):
    words = [rng.choice(bank["subjects"]), rng.choice(bank["verbs"]), rng.choice(bank["objects"])]
    if rng.random() < 0.6:
        words.append(rng.choice(bank["tails"]))
    if rng.random() < RARE_P * len(rare):
        words.append(rng.choice(rare))
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def case_item(rng):
    """Columns of one solved case (essence, question, solutions, ...), Russian or English."""
    russian = rng.random() < 0.6
    bank, rare = (RU, RARE_RU) if russian else (EN, RARE_EN)
    essence = " ".join(_sentence(rng, bank, rare) for _ in range(rng.randint(2, 4)))
    solutions = [
        {"text": " ".join(rng.sample(bank["solutions"], rng.randint(1, 3))), "materials": []}
        for _ in range(rng.choice((1, 1, 2)))
    ]
    return {
        "rubrics": rng.sample(RUBRIC_SLUGS, rng.choice((1, 1, 2, 3))),
        "essence": essence,
        "actions_taken": _sentence(rng, bank, rare),
        "difficulty": _sentence(rng, bank, rare),
        "question": rng.choice(bank["questions"]),
        "solutions": solutions,
        "clarifications": [
            {"question": rng.choice(bank["questions"]), "kind": "clarifying", "answer": _sentence(rng, bank, rare)}
        ],
    }


def material_item(rng):
    russian = rng.random() < 0.6
    bank, rare = (RU, RARE_RU) if russian else (EN, RARE_EN)
    kind = rng.choice(("article", "book", "link"))
    title = _sentence(rng, bank, rare).rstrip(".")
    return {
        "material_type": kind,
        "title": title,
        "description": _sentence(rng, bank, rare),
        "url": "https://example.org/m/%d" % rng.randrange(10**6) if kind != "book" else None,
        "reference": f"{title}. M., {rng.randint(1990, 2025)}." if kind == "book" else "",
        "rubrics": rng.sample(RUBRIC_SLUGS, rng.choice((1, 2))),
    }


def items(n, seed=7, material_share=0.2):
    """``n`` items as ("case" | "material", columns), in a fixed random order."""
    rng = random.Random(seed)
    for _ in range(n):
        yield ("material", material_item(rng)) if rng.random() < material_share else ("case", case_item(rng))
