"""A labelled set for bench_similar_quality.py: solved cases on sixteen topics and new cases
asking about them, in Russian and English, judged by topic.

Each topic has problem sentences and questions in both languages. The library's solved cases
are written from the first three sentences and first two questions of their language (three
Russian and three English cases per topic, with seeded outcomes); the new cases (queries) from
the held-out sentences and question, so a query says the same thing in other words. Topics share
rubrics (two topics on parents, three on class management): a rubric alone does not make an item
relevant. A query's judged relevant items are the solved cases of its topic (``relevant``); the
``UNANSWERED`` queries ask about topics the library has nothing on: the right answer is nothing.
"""

import random

TOPICS = {
    "bullying": {
        "rubrics": ["class-management-motivation", "professional-ethics"],
        "ru": (
            [
                "Одноклассники травят ученика 6 класса, пишут оскорбления в общем чате.",
                "Группа девочек исключает новенькую из всех дел и смеётся над ней на переменах.",
                "Ученика дразнят из-за внешности, он перестал ходить в школу.",
                "В классе началась травля: мальчика высмеивают и выкладывают его фото в чат.",
                "Над ученицей издеваются одноклассники, а она боится рассказать родителям о травле.",
            ],
            [
                "Как остановить травлю в классе?",
                "Что делать с буллингом в чате?",
                "Как защитить ребёнка, которого травят одноклассники?",
            ],
        ),
        "en": (
            [
                "Classmates bully a 6th form pupil and post insults in the class chat.",
                "A group of girls excludes the new pupil and laughs at her in every break.",
                "A boy is teased about his looks and has stopped coming to school.",
                "Bullying started in my class: pupils mock a boy and share his photos in the chat.",
                "A girl is bullied by her classmates and is afraid to tell her parents.",
            ],
            [
                "How do I stop the bullying in my class?",
                "What do I do about bullying in the chat?",
                "How do I protect a pupil bullied by classmates?",
            ],
        ),
    },
    "homework": {
        "rubrics": ["class-management-motivation"],
        "ru": (
            [
                "Ученики 7 класса перестали делать домашние задания после каникул.",
                "Половина класса списывает домашнюю работу друг у друга перед уроком.",
                "Дети говорят, что домашние задания бессмысленны, и не сдают их.",
                "Мои ученики не выполняют домашнюю работу уже месяц.",
                "Домашнее задание сдают два человека из двадцати пяти.",
            ],
            [
                "Как вернуть мотивацию к домашней работе?",
                "Как сделать домашние задания осмысленными?",
                "Что делать, если дети не делают домашние задания?",
            ],
        ),
        "en": (
            [
                "My 7th formers stopped doing their homework after the holidays.",
                "Half the class copies homework from each other before the lesson.",
                "The pupils say homework is pointless and do not hand it in.",
                "For a month my students have not done their homework.",
                "Only two of twenty-five pupils hand in the homework.",
            ],
            [
                "How do I bring back motivation for homework?",
                "How do I make homework meaningful?",
                "What do I do when pupils skip homework?",
            ],
        ),
    },
    "parents_night": {
        "rubrics": ["interaction-with-parents"],
        "ru": (
            [
                "Родители пишут мне в мессенджер поздно ночью и ждут немедленного ответа.",
                "Мама ученика звонит в выходные и обижается, если я не беру трубку.",
                "Родительский чат требует отвечать на сообщения в любое время суток.",
                "Отец ученика присылает голосовые сообщения в полночь и требует перезвонить.",
                "Мне пишут родители по ночам, я не могу отдохнуть.",
            ],
            [
                "Как выстроить границы в общении с родителями?",
                "Когда учитель обязан отвечать родителям?",
                "Как договориться с родителями о времени для сообщений?",
            ],
        ),
        "en": (
            [
                "Parents message me late at night and expect an immediate answer.",
                "A pupil's mother calls me at weekends and is offended when I do not pick up.",
                "The parents' chat expects me to answer messages at any hour.",
                "A father sends me voice messages at midnight and demands that I call back.",
                "Parents text me at night and I cannot rest.",
            ],
            [
                "How do I set boundaries with parents?",
                "When must a teacher answer parents?",
                "How do I agree with parents on hours for messages?",
            ],
        ),
    },
    "grade_complaints": {
        "rubrics": ["interaction-with-parents", "monitoring-evaluation"],
        "ru": (
            [
                "Мама ученика жалуется директору на каждую оценку сына.",
                "Родители требуют исправить четвертную оценку и угрожают жалобой в департамент.",
                "Отец оспаривает оценки за контрольную и обвиняет меня в предвзятости.",
                "Родители пишут жалобы на мои оценки и требуют пересмотреть отметку.",
                "Семья ученика недовольна оценками и грозит жалобой в министерство.",
            ],
            [
                "Как отвечать на жалобы родителей на оценки?",
                "Как обосновать выставленную оценку?",
                "Что делать, если родители оспаривают оценки?",
            ],
        ),
        "en": (
            [
                "A mother complains to the head about every grade her son gets.",
                "Parents demand that I change a term grade and threaten a complaint to the department.",
                "A father disputes the test grades and accuses me of bias.",
                "Parents write complaints about my grades and demand that the mark be revised.",
                "A pupil's family is unhappy with the grades and threatens to complain to the ministry.",
            ],
            [
                "How do I answer parents' complaints about grades?",
                "How do I justify a grade?",
                "What do I do when parents dispute grades?",
            ],
        ),
    },
    "unpaid_hours": {
        "rubrics": ["education-law"],
        "ru": (
            [
                "Администрация требует вести дополнительные занятия бесплатно, без приказа.",
                "Меня заставляют работать сверхурочно без дополнительного соглашения к договору.",
                "Завуч поручает замены без оплаты и без записи в табеле.",
                "Директор требует проводить кружок без оплаты, это законно по Трудовому кодексу?",
                "Мне не оплачивают замены уроков и дополнительную нагрузку.",
            ],
            [
                "Законно ли это по Трудовому кодексу?",
                "Какие права у учителя по трудовому договору?",
                "Как добиться оплаты дополнительной нагрузки?",
            ],
        ),
        "en": (
            [
                "The administration wants me to teach extra lessons for free, without an order.",
                "I am made to work overtime without an amendment to my employment contract.",
                "The deputy head assigns cover lessons without pay and without recording them.",
                "The head wants me to run a club unpaid: is that legal under the labour code?",
                "My cover lessons and extra workload are not paid.",
            ],
            [
                "Is that legal under the labour code?",
                "What are a teacher's rights under the employment contract?",
                "How do I get the extra workload paid?",
            ],
        ),
    },
    "burnout": {
        "rubrics": ["personal-resources", "self-management"],
        "ru": (
            [
                "Я чувствую выгорание, плохо сплю и срываюсь на учеников.",
                "После первого года работы нет сил, хочется уйти из профессии.",
                "Постоянная усталость: проверяю тетради до ночи и не отдыхаю.",
                "Выгорание на первом году: устала, плачу после уроков, хочу уволиться.",
                "Нет сил и энергии, работа забирает всё время и здоровье.",
            ],
            [
                "Как восстановить силы?",
                "Как не выгореть в первые годы работы?",
                "Как вернуть энергию и не уйти из профессии?",
            ],
        ),
        "en": (
            [
                "I feel burned out, sleep badly and snap at my pupils.",
                "After my first year I have no energy left and want to leave teaching.",
                "Constant exhaustion: I mark notebooks until midnight and never rest.",
                "Burnout in my first year: I am exhausted, cry after lessons and want to resign.",
                "I have no strength or energy left; the job takes all my time and health.",
            ],
            [
                "How do I recover my strength?",
                "How do I avoid burnout in the first years?",
                "How do I get my energy back and stay in teaching?",
            ],
        ),
    },
    "flipped": {
        "rubrics": ["digital-technologies"],
        "ru": (
            [
                "Не получается перевёрнутый класс: ученики не смотрят видео дома.",
                "На онлайн-уроках ученики выключают камеры и не отвечают на платформе.",
                "Цифровая платформа школы неудобна, дети теряют задания.",
                "Перевёрнутый класс не работает, ученики игнорируют видео к уроку.",
                "Дистанционные уроки проходят впустую: камеры выключены, в чате тишина.",
            ],
            [
                "Как организовать перевёрнутый класс?",
                "Как вовлечь учеников в онлайн-уроки?",
                "Как сделать так, чтобы ученики смотрели видео к уроку?",
            ],
        ),
        "en": (
            [
                "My flipped classroom fails: pupils do not watch the videos at home.",
                "In online lessons pupils switch off their cameras and do not answer on the platform.",
                "The school's digital platform is awkward and the children lose their tasks.",
                "The flipped classroom does not work, pupils ignore the videos for the lesson.",
                "Remote lessons are wasted: cameras off and silence in the chat.",
            ],
            [
                "How do I run a flipped classroom?",
                "How do I engage pupils in online lessons?",
                "How do I get pupils to watch the lesson videos?",
            ],
        ),
    },
    "gifted": {
        "rubrics": ["individualization"],
        "ru": (
            [
                "Одарённый ученик скучает на уроках математики и мешает другим.",
                "Девочка решает олимпиадные задачи, а на уроке ей нечего делать.",
                "Сильный ученик опережает программу на два года и теряет интерес.",
                "Одарённому ребёнку скучно, программа для него слишком лёгкая.",
                "Ученик с высокими способностями перестал стараться, ему неинтересно на уроках.",
            ],
            [
                "Как работать с одарённым учеником?",
                "Как составить индивидуальный маршрут для сильного ученика?",
                "Чем занять одарённого ребёнка на уроке?",
            ],
        ),
        "en": (
            [
                "A gifted pupil is bored in maths lessons and distracts the others.",
                "A girl solves olympiad problems and has nothing to do in class.",
                "A strong pupil is two years ahead of the syllabus and is losing interest.",
                "A gifted child is bored: the syllabus is far too easy for him.",
                "A highly able pupil stopped trying; lessons do not interest him.",
            ],
            [
                "How do I teach a gifted pupil?",
                "How do I plan an individual route for a strong pupil?",
                "How do I keep a gifted child busy in class?",
            ],
        ),
    },
    "adhd": {
        "rubrics": ["individualization", "class-management-motivation"],
        "ru": (
            [
                "У ученика СДВГ, он не может усидеть на месте и выкрикивает на уроке.",
                "Ребёнок с особыми образовательными потребностями срывает урок.",
                "Ученик с гиперактивностью отвлекается каждые пять минут.",
                "Гиперактивный ученик с СДВГ бегает по классу во время урока.",
                "Ребёнку с особыми потребностями трудно сосредоточиться, он мешает классу.",
            ],
            [
                "Как организовать урок для ученика с СДВГ?",
                "Как помочь ребёнку с особыми потребностями?",
                "Как удержать внимание гиперактивного ученика?",
            ],
        ),
        "en": (
            [
                "A pupil with ADHD cannot sit still and shouts out in lessons.",
                "A child with special educational needs disrupts the lesson.",
                "A hyperactive pupil is distracted every five minutes.",
                "A hyperactive pupil with ADHD runs around the classroom during the lesson.",
                "A child with special needs struggles to concentrate and disturbs the class.",
            ],
            [
                "How do I plan a lesson for a pupil with ADHD?",
                "How do I support a child with special needs?",
                "How do I keep a hyperactive pupil's attention?",
            ],
        ),
    },
    "colleague_conflict": {
        "rubrics": ["professional-ethics"],
        "ru": (
            [
                "Коллега по кафедре критикует мои уроки при учениках.",
                "Опытная коллега распространяет обо мне слухи в учительской.",
                "Завуч повышает на меня голос на педсовете при всех.",
                "Конфликт с коллегой: она обсуждает мои уроки с учениками и родителями.",
                "Коллега унижает меня на совещаниях и распускает слухи.",
            ],
            [
                "Как разрешить конфликт с коллегой?",
                "Как сохранить профессиональную этику в споре?",
                "Как вести себя, если коллега критикует меня публично?",
            ],
        ),
        "en": (
            [
                "A colleague in my department criticises my lessons in front of the pupils.",
                "An experienced colleague spreads rumours about me in the staff room.",
                "The deputy head raises her voice at me in the staff meeting in front of everyone.",
                "A conflict with a colleague: she discusses my lessons with pupils and parents.",
                "A colleague humiliates me at meetings and spreads rumours.",
            ],
            [
                "How do I resolve a conflict with a colleague?",
                "How do I stay professional in a dispute?",
                "What do I do when a colleague criticises me publicly?",
            ],
        ),
    },
    "project_grading": {
        "rubrics": ["monitoring-evaluation"],
        "ru": (
            [
                "Не знаю, как справедливо оценивать групповые проекты.",
                "В проектной группе работает один ученик, а оценку получают все.",
                "Ученики спорят о критериях оценки исследовательских работ.",
                "Как оценить проект, если в группе работал только один?",
                "Нужны понятные критерии оценивания проектной работы.",
            ],
            [
                "Как оценивать проектные работы справедливо?",
                "Какие критерии оценки проекта использовать?",
                "Как оценивать вклад каждого ученика в групповой проект?",
            ],
        ),
        "en": (
            [
                "I do not know how to grade group projects fairly.",
                "In a project group one pupil does the work and everyone gets the grade.",
                "The pupils argue about the criteria for grading research work.",
                "How do I grade a project when only one member of the group worked?",
                "I need clear criteria for assessing project work.",
            ],
            [
                "How do I grade projects fairly?",
                "Which criteria should I use for a project?",
                "How do I assess each pupil's share of a group project?",
            ],
        ),
    },
    "exam_prep": {
        "rubrics": ["teaching-methods", "monitoring-evaluation"],
        "ru": (
            [
                "Ученики 9 класса плохо пишут пробный ОГЭ по русскому языку.",
                "Выпускники боятся ЕГЭ и не успевают пройти программу повторения.",
                "Результаты пробного экзамена по математике оказались очень низкими.",
                "Как подготовить девятиклассников к ОГЭ, если пробный экзамен провален?",
                "Выпускной класс не готов к ЕГЭ, пробники написаны плохо.",
            ],
            [
                "Как организовать подготовку к экзамену?",
                "Как повторить программу перед ЕГЭ?",
                "Как поднять результаты пробного ОГЭ?",
            ],
        ),
        "en": (
            [
                "My 9th formers do badly in the mock state exam in Russian.",
                "The leavers fear the final exam and we cannot get through the revision.",
                "The results of the mock maths exam were very low.",
                "How do I prepare my 9th formers for the state exam after a failed mock?",
                "My leavers are not ready for the final exam; the mock exams went badly.",
            ],
            [
                "How do I organise exam preparation?",
                "How do I revise the syllabus before the final exam?",
                "How do I raise the mock exam results?",
            ],
        ),
    },
    "museum_trips": {
        "rubrics": ["urban-educational-projects"],
        "ru": (
            [
                "Хочу проводить уроки в городских музеях, но не знаю, с чего начать.",
                "Экскурсия в планетарий прошла скучно, дети не слушали экскурсовода.",
                "Городские образовательные программы музеев не подходят моему классу.",
                "Как сделать выход в музей города частью урока, а не просто экскурсией?",
                "Дети скучают на экскурсиях в музеях и парках города.",
            ],
            [
                "Как использовать музеи города в обучении?",
                "Как подготовить экскурсию, чтобы детям было интересно?",
                "Как связать экскурсию по городу с уроком?",
            ],
        ),
        "en": (
            [
                "I want to teach lessons in the city's museums but do not know where to start.",
                "The planetarium trip was dull; the children did not listen to the guide.",
                "The museums' city education programmes do not suit my class.",
                "How do I make a city museum visit part of a lesson, not just an excursion?",
                "The children are bored on trips to the city's museums and parks.",
            ],
            [
                "How do I use the city's museums in teaching?",
                "How do I prepare a trip the children enjoy?",
                "How do I link a city excursion to the lesson?",
            ],
        ),
    },
    "attestation": {
        "rubrics": ["self-management"],
        "ru": (
            [
                "Скоро аттестация на первую квалификационную категорию, не знаю, какие документы собрать.",
                "Хочу построить карьеру в школе, но не понимаю, как расти дальше.",
                "Нужно готовить портфолио к аттестации, а времени нет.",
                "Как подготовиться к аттестации на квалификационную категорию?",
                "Планирую профессиональное развитие: аттестация, курсы, конкурсы.",
            ],
            [
                "Как подготовиться к аттестации?",
                "Как спланировать профессиональное развитие и карьеру?",
                "Какие документы нужны для квалификационной категории?",
            ],
        ),
        "en": (
            [
                "My attestation for the first qualification category is due and I do not know which papers to collect.",
                "I want to build a career at school but do not see how to grow further.",
                "I must prepare a portfolio for the attestation and have no time.",
                "How do I prepare for the attestation for a qualification category?",
                "I am planning my professional development: attestation, courses, competitions.",
            ],
            [
                "How do I prepare for the attestation?",
                "How do I plan my professional development and career?",
                "Which papers do I need for a qualification category?",
            ],
        ),
    },
    "family_risk": {
        "rubrics": ["families-at-risk"],
        "ru": (
            [
                "Ученик приходит голодным, родители пьют, ребёнок часто пропускает школу.",
                "Подозреваю, что в семье ученика насилие: синяки и страх идти домой.",
                "Семья в трудной жизненной ситуации, ребёнок остаётся без присмотра.",
                "Ребёнок из неблагополучной семьи пропускает уроки и приходит голодным.",
                "У ученицы синяки, она боится идти домой; кажется, в семье насилие.",
            ],
            [
                "Куда сообщить о неблагополучной семье?",
                "Как помочь ребёнку из семьи в трудной ситуации?",
                "Что делать учителю при подозрении на насилие в семье?",
            ],
        ),
        "en": (
            [
                "A pupil comes to school hungry; the parents drink and he often misses school.",
                "I suspect violence in a pupil's family: bruises and fear of going home.",
                "The family is in a difficult situation and the child is left unsupervised.",
                "A child from a troubled family misses lessons and comes hungry.",
                "A girl has bruises and is afraid to go home; I think there is violence in the family.",
            ],
            [
                "Whom do I tell about a family at risk?",
                "How do I help a child from a family in difficulty?",
                "What must a teacher do on suspecting violence at home?",
            ],
        ),
    },
    "phones": {
        "rubrics": ["class-management-motivation", "digital-technologies"],
        "ru": (
            [
                "Ученики сидят в телефонах на уроке и не слушают объяснение.",
                "Запрет телефонов не работает: дети прячут смартфоны под партой.",
                "Подростки снимают урок на телефон и выкладывают видео в соцсети.",
                "На каждом уроке ученики играют в телефонах, как это прекратить?",
                "Смартфоны на уроке отвлекают весь класс.",
            ],
            [
                "Как справиться с телефонами на уроке?",
                "Как договориться с классом о смартфонах?",
                "Можно ли использовать телефоны на уроке с пользой?",
            ],
        ),
        "en": (
            [
                "Pupils sit on their phones in the lesson and do not listen.",
                "The phone ban does not work: children hide smartphones under the desk.",
                "Teenagers film the lesson on their phones and post videos on social media.",
                "In every lesson pupils play on their phones; how do I stop it?",
                "Smartphones in the lesson distract the whole class.",
            ],
            [
                "How do I deal with phones in lessons?",
                "How do I agree on smartphones with the class?",
                "Can phones be used usefully in a lesson?",
            ],
        ),
    },
}
# New cases about topics the library holds nothing on: the right answer is no suggestion.
UNANSWERED = [
    ("ru", ["self-management"], "Хочу научиться играть на гитаре для школьного концерта, где найти время?"),
    ("ru", ["teaching-methods"], "Как провести лабораторную работу по химии без реактивов?"),
    ("en", ["teaching-methods"], "How do I run a chemistry practical without any reagents?"),
    ("en", ["urban-educational-projects"], "Where can my choir rehearse for the city song festival?"),
]
OUTCOMES = (("yes", 5), ("yes", 4), ("yes", 4), ("partly", 3), ("partly", 4), ("no", 2), ("no", 1))
SOLUTION = {
    "ru": "Обсудите ситуацию с наставником и составьте план из трёх шагов.",
    "en": "Discuss it with your mentor and make a three-step plan.",
}


def library(seed=7):
    """The solved cases: ``{topic, language, rubrics, essence, question, problem_solved, helpfulness,
    solution}``, three per topic and language."""
    rng = random.Random(seed)
    items = []
    for topic, spec in TOPICS.items():
        for language in ("ru", "en"):
            sentences, questions = spec[language]
            for n in range(3):
                chosen = [sentences[n], sentences[(n + 1) % 3]]
                solved, helpful = rng.choice(OUTCOMES)
                items.append(
                    {
                        "topic": topic,
                        "language": language,
                        "rubrics": spec["rubrics"],
                        "essence": " ".join(chosen),
                        "question": questions[n % 2],
                        "problem_solved": solved,
                        "helpfulness": helpful,
                        "solution": SOLUTION[language],
                    }
                )
    return items


def queries(seed=11):
    """The new cases: ``{topic, language, rubrics, text}``, two per topic and language (the held-out
    sentences and question); a quarter add a rubric of another topic, as mentees do."""
    rng = random.Random(seed)
    found = []
    all_rubrics = sorted({r for spec in TOPICS.values() for r in spec["rubrics"]})
    for topic, spec in TOPICS.items():
        for language in ("ru", "en"):
            sentences, questions = spec[language]
            for sentence in sentences[3:]:
                rubrics = list(spec["rubrics"][:1]) if rng.random() < 0.5 else list(spec["rubrics"])
                if rng.random() < 0.25:
                    rubrics.append(rng.choice([r for r in all_rubrics if r not in rubrics]))
                found.append(
                    {"topic": topic, "language": language, "rubrics": rubrics, "text": f"{sentence}\n{questions[2]}"}
                )
    for language, rubrics, text in UNANSWERED:
        found.append({"topic": None, "language": language, "rubrics": rubrics, "text": text})
    return found
