"""Personal data that has a shape: e-mails, phones, dates, street addresses, schools, profiles.

Each recognizer is a function ``text -> [(start, stop, kind)]``. They are patterns rather than
models because these items have a form (digits, ``@``, a street type, a school keyword) that a
named-entity model trained on news does not learn, and in two languages at once. Words around an
item that only say what it is ("ул.", "born on", "School") are kept where the item allows it, so
the placeholder reads naturally.
"""

import re
from collections.abc import Callable

from services.common.anonymizer.text import FUNCTION_WORDS, Span

_I = re.IGNORECASE | re.UNICODE

# --- e-mails -------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"[\w.+-]+(?:@|\s?[(\[]\s?(?:at|собака)\s?[)\]]\s?)[\w-]+(?:(?:\.|\s?[(\[]\s?(?:dot|точка)\s?[)\]]\s?)[\w-]+)+", _I
)


def email_spans(text: str) -> list[Span]:
    return [(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]


# --- profile links and handles -------------------------------------------------------------------
# Networks whose every one-segment path is a person or a channel (not a material to read).
SOCIAL_HOSTS = (
    "vk.com",
    "vk.ru",
    "vkontakte.ru",
    "m.vk.com",
    "ok.ru",
    "odnoklassniki.ru",
    "t.me",
    "telegram.me",
    "telegram.dog",
    "instagram.com",
    "instagr.am",
    "facebook.com",
    "fb.com",
    "m.facebook.com",
    "twitter.com",
    "x.com",
    "tiktok.com",
    "youtube.com",
    "youtu.be",
    "linkedin.com",
    "wa.me",
    "threads.net",
    "pinterest.com",
    "snapchat.com",
    "reddit.com",
    "github.com",
    "gitlab.com",
    "my.mail.ru",
    "livejournal.com",
    "dzen.ru",
    "zen.yandex.ru",
    "rutube.ru",
    "tumblr.com",
    "medium.com",
    "mastodon.social",
    "bsky.app",
    "twitch.tv",
    "discord.gg",
    "discord.com",
    "habr.com",
    "pikabu.ru",
    "quora.com",
    "skype.com",
    "viber.com",
    "teams.live.com",
    "soundcloud.com",
    "behance.net",
    "flickr.com",
    "patreon.com",
    "boosty.to",
    "substack.com",
)
_URL = re.compile(r"(?:\bhttps?://|\bwww\.|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?=/))[^\s<>\"«»“”']+", _I)
# A path segment that names a person or an account on any network.
_PROFILE_PATH = re.compile(
    r"/(?:@|~)[^/]+|/(?:u|user|users|profile|profiles|people|person|in|id\d+|channel|c|member|members|author|avtor|"
    r"authors|account|accounts|pub|add|sharer|home\.php|profile\.php)(?:/|$|\?|\b)|[?&](?:id|user|uid|u)=",
    _I,
)
# A path ending in an account name: snake_case, no file extension ("stihi.ru/avtor/veter_sev").
_ACCOUNT_SEGMENT = re.compile(r"/[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)*_[A-Za-z0-9_]*/?(?:$|[?#])")
_HOST = re.compile(r"^(?:https?://)?(?:www\.)?([^/?#:]+)", _I)
_TRAILING = ".,;:!?)]}»"


def _is_profile(url: str) -> bool:
    match = _HOST.match(url)
    assert match is not None  # a link _URL found starts with a host
    host = match.group(1).lower()
    if any(host == h or host.endswith("." + h) for h in SOCIAL_HOSTS):
        return True
    if re.match(r"[a-z0-9-]+\.(?:livejournal|tumblr|substack|blogspot|wordpress|carrd)\.", host):
        return True  # the account is the subdomain
    path = url[url.lower().find(host) + len(host) :]
    return bool(_PROFILE_PATH.search(path) or _ACCOUNT_SEGMENT.search(path))


def link_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        if _is_profile(url):
            spans.append((m.start(), m.start() + len(url), "LINK"))
    return spans


_AT_HANDLE = re.compile(r"(?<![\w.@/+-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
# Words that announce an account on a network; the handle follows, perhaps after a linking word.
_NETWORK = (
    r"ig|snap|fb|telegram\w*|телеграм\w*|телеге|телега|тг|tg|instagram\w*|insta|инстаграм\w*|инст[аеуы]\w*|vk|вк|"
    r"вконтакте|ok\.ru|одноклассник\w*|tik ?tok\w*|тик ?ток\w*|тикток\w*|twitter|твиттер\w*|"
    r"snapchat|снапчат\w*|youtube|ютуб\w*|discord|дискорд\w*|skype|скайп\w*|threads|whatsapp|ватсап\w*|"
    r"viber|вайбер\w*|twitch|твич\w*|likee|лайки|facebook|фейсбук\w*|linkedin|линкедин\w*|github|"
    r"mastodon|bluesky|reddit|pinterest|nick(?:name)?|никнейм\w*|ник[аеуом]*|username|user ?name|handle|"
    r"логин\w*|login|account|аккаунт\w*|профил\w*|profile|канал\w*|channel|page|страниц\w*|blog|блог\w*"
)
_LINKING = (
    r"(?:\s*(?:[:—–-]|is|was|as|under|called|named|at|on|@|под|с|со|ником|ник|названием|это|"
    r"называется|зовут|account|аккаунт\w*|page|handle|name|username|profile|профил\w*|канал\w*)\s*){0,4}"
)
_CONTEXT_HANDLE = re.compile(
    r"\b(?:" + _NETWORK + r")\b" + _LINKING + r"(?P<handle>@?[A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_](?:#\d{4})?)", _I
)
# snake_case or letters-and-digits tokens in Latin script are accounts, not words, in a case text.
_HANDLE_SHAPE = re.compile(
    r"(?<![\w.@/-])[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)*_[A-Za-z0-9_.]*[A-Za-z0-9]"
    r"(?![\w@/-])"
)


_FILE_NAME = re.compile(r"\.(?:docx?|pdf|pptx?|xlsx?|odt|txt|rtf|jpe?g|png|gif|mp[34]|mov|zip|html?|py|csv)$", _I)


def handle_spans(text: str, is_word: Callable[[str], bool]) -> list[Span]:
    """``is_word``: whether a Latin token is an ordinary English word (not an account name)."""
    spans = [(m.start(), m.end(), "HANDLE") for m in _AT_HANDLE.finditer(text)]
    spans += [(m.start(), m.end(), "HANDLE") for m in _HANDLE_SHAPE.finditer(text) if not _FILE_NAME.search(m.group())]
    for m in _CONTEXT_HANDLE.finditer(text):
        handle = m.group("handle")
        shaped = re.search(r"[\d_.@]", handle) or not is_word(handle)
        if shaped and handle.lower() not in _NOT_HANDLES:
            spans.append((m.start("handle"), m.end("handle"), "HANDLE"))
    return spans


_NOT_HANDLES = {
    "and",
    "or",
    "the",
    "but",
    "with",
    "etc",
    "too",
    "also",
    "chat",
    "group",
    "page",
    "app",
    "messenger",
    "direct",
    "dm",
    "stories",
    "story",
    "reels",
    "ok",
    "mail",
    "ru",
}

# --- phones --------------------------------------------------------------------------------------
_PHONE = re.compile(
    r"(?<![\w+\-./])(?:\+\s?\d{1,3}[\s.\-]?)?(?:\(\s?\d{1,5}\s?\)[\s.\-]?)?\d[\d\s.\-()]{4,}\d(?![\w\-]|[.,]\d)"
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:тел\.?|телефон\w*|моб\.?|мобильн\w*|сотов\w*|номер\w*|доб\.?|добавочн\w*|whatsapp|ватсап\w*|вайбер\w*|"
    r"viber|phone\w*|tel\.?|mob\.?|mobile|cell|ext\.?|extension|call\w*|text|ring|звон\w*|позвон\w*|"
    r"пиши\w*|пишите|смс|sms)\s*[:№#.]?\s*(?P<number>\+?\d[\d\s\-()]{3,}\d)",
    _I,
)
_THOUSANDS = re.compile(r"^\d{1,3}(?: \d{3})+$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d\s*[-–/]\s*(?:(?:19|20)?\d\d)$")


def phone_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _PHONE.finditer(text):
        number = m.group().rstrip(" .-")
        digits = sum(c.isdigit() for c in number)
        if not 7 <= digits <= 15 or _THOUSANDS.match(number) or _YEAR_RANGE.match(number) or _is_date(number):
            continue
        if re.search(r"\b(?:ISBN|ISSN|DOI|ИНН|СНИЛС|ОГРН)[\s:-]*$", text[max(0, m.start() - 8) : m.start()], re.I):
            continue  # a book's or a body's number, not a person's phone
        spans.append((m.start(), m.start() + len(number), "PHONE"))
    for m in _PHONE_CONTEXT.finditer(text):
        number = m.group("number").rstrip(" -")
        if sum(c.isdigit() for c in number) >= 5 and not _is_date(number):
            spans.append((m.start("number"), m.start("number") + len(number), "PHONE"))
    return spans


# --- dates ---------------------------------------------------------------------------------------
RU_MONTHS = (
    r"(?:январ[ьяюе]|феврал[ьяюе]|март[аеу]?|апрел[ьяюе]|ма[йяюе]|июн[ьяюе]|июл[ьяюе]|август[аеу]?|"
    r"сентябр[ьяюе]|октябр[ьяюе]|ноябр[ьяюе]|декабр[ьяюе]|янв\.?|февр?\.?|апр\.?|авг\.?|сент?\.?|окт\.?|"
    r"нояб?\.?|дек\.?)"
)
EN_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
_DAY = r"(?:[012]?\d|3[01])"
_DAY_WORD = _DAY + r"(?:\s?-?(?:st|nd|rd|th|го|е|ое|ого))?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_YEAR_TAIL = r"(?:\s?(?:г\.\s?р\.|гг?\.|году|года|год\b|г\b))?"
_NUMERIC_DATE = (
    r"(?:" + _DAY + r"[./-](?:0?[1-9]|1[0-2])[./-](?:" + _YEAR + r"|\d\d)(?!\d)"
    r"|" + _DAY + r"[-/ ](?:" + EN_MONTHS + r"|" + RU_MONTHS + r")[-/ ](?:" + _YEAR + r"|\d\d)(?!\d)"
    r"|(?:0?[1-9]|1[0-2])/" + _DAY + r"/(?:" + _YEAR + r"|\d\d)(?!\d)"
    r"|" + _YEAR + r"[./-](?:0?[1-9]|1[0-2])[./-]" + _DAY + r"(?!\d))"
)
_FULL_DATE = re.compile(
    r"(?<![\d.])(?:"
    + _NUMERIC_DATE
    + r"|"
    + _DAY_WORD
    + r"\s+(?:of\s+)?(?:"
    + RU_MONTHS
    + r"|"
    + EN_MONTHS
    + r")\.?,?\s+(?:"
    + _YEAR
    + r"|['’]\d\d(?!\d))"
    + r"|"
    + EN_MONTHS
    + r"\s+"
    + _DAY_WORD
    + r",?\s+"
    + _YEAR
    + r")"
    + _YEAR_TAIL,
    _I,
)
# A date without a day or a year: a birth date only where birth is said around it.
_PARTIAL_DATE = re.compile(
    r"(?<![\d.])(?:" + _DAY_WORD + r"\s+(?:of\s+)?(?:" + RU_MONTHS + r"|" + EN_MONTHS + r")(?!\w)"
    r"|" + EN_MONTHS + r"\s+" + _DAY_WORD + r"\b"
    r"|(?:"
    + RU_MONTHS
    + r"|"
    + EN_MONTHS
    + r")\s+"
    + _YEAR
    + _YEAR_TAIL
    + r"|"
    + _DAY
    + r"[./](?:0?[1-9]|1[0-2])(?![\d/])"
    r"|" + _YEAR + _YEAR_TAIL + r")",
    _I,
)
_BIRTH = re.compile(
    r"\b(?:родил\w*|рожд\w*|исполн\w*|turn(?:s|ed|ing)?\s+\w+\s+on|will be \w+ on|д\.\s?р\.|др|день рождения|дня рождения|dob|d\.o\.b\.?|born|birth\w*|"
    r"b\.)",
    _I,
)
_BIRTH_AFTER = re.compile(r"^\s*(?:г\.\s?р\.|(?:года\s)?рождения|г\.\s?рожд\w*|\(?born\)?|b\.)", _I)


# Where the clause saying "born" ends: "день рождения 5 мая, а контрольная 5 мая" has one birth date.
_CLAUSE_BREAK = re.compile(r"[.!?](?=\s+[A-ZА-ЯЁ])|;|\b(?:а|но|и|and|but|while|whereas)\s", re.IGNORECASE)


def _is_date(value: str) -> bool:
    return bool(re.fullmatch(_FULL_DATE.pattern, value.strip(), _I))


def date_spans(text: str) -> list[Span]:
    """Every full date (day, month and year), and a partial one said to be a birth date."""
    spans = [(m.start(), m.end(), "DATE") for m in _FULL_DATE.finditer(text)]
    for m in _PARTIAL_DATE.finditer(text):
        before = _CLAUSE_BREAK.split(text[max(0, m.start() - 40) : m.start()])[-1]
        if _BIRTH.search(before) or _BIRTH_AFTER.match(text[m.end() :]) or re.search(r"г\.\s?р\.", m.group()):
            spans.append((m.start(), m.end(), "DATE"))
    return spans


# --- street addresses ----------------------------------------------------------------------------
# A street type abbreviated is written as an address; spelled out, only a house number makes it one
# ("ул. Ленина" goes; "на Красной площади", "по Тверской улице" stay; "улица Гагарина, дом 8" goes).
_RU_STREET_ABBR = r"(?:ул\.|пр-т|пр-кт|просп\.|пр\.|пер\.|б-р|бул\.|ш\.|наб\.|пл\.|пр-д|туп\.|мкр\.?|мкрн\.?)"
_RU_STREET_WORD = (
    r"(?:улиц[аеуыи]й?|проспект[аеу]?(?:ом)?|переул(?:ок|к[аеу]|ком)|бульвар[аеу]?|шоссе|"
    r"набережн(?:ая|ой|ую)|площад[ьи]|проезд[аеу]?|тупик[аеу]?|алле[яиюе]|микрорайон[аеу]?|линия|линии|"
    r"тракт[аеу]?)"
)
_RU_NAME_WORD = r"(?:\d{1,2}-?(?:[яйео]|ая|ой|ий|ый)\s+|\d{1,2}\s+(?=[А-ЯЁ]))?[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?"
_RU_NAME = _RU_NAME_WORD + r"(?:\s+[А-ЯЁ][а-яё]+){0,2}"
_RU_HOUSE = (
    r"(?:,?\s*(?:д\.|дом[аеу]?)?\s*\d+(?:\s?[а-яА-Я](?![\w])|[кс]\d+)*(?![\d\w])(?:\s?/\s?\d+)?(?:\s?[-–]\s?\d+){0,2}"
    r"(?:,?\s*(?:к\.|корп\.|корпус[аеу]?|стр\.|строени[еяи])\s*\d+)*"
    r"(?:,?\s*(?:кв\.|квартир[аеуы]|оф\.|офис[аеу]?|комн?\.|комнат[аеуы])\s*\d+)?)"
)
_RU_ADDRESS = re.compile(
    r"(?:\b"
    + _RU_STREET_ABBR
    + r"\s*"
    + _RU_NAME
    + r"|"
    + _RU_NAME
    + r"\s+"
    + _RU_STREET_ABBR
    + r"(?!\w))"
    + _RU_HOUSE
    + r"?"
    r"|(?:\b"
    + _RU_STREET_WORD
    + r"\s+"
    + _RU_NAME
    + r"|"
    + _RU_NAME
    + r"\s+"
    + _RU_STREET_WORD
    + r"(?!\w))"
    + _RU_HOUSE
    + r"|\b(?:д\.|дом[аеу]?)\s*\d+\s?[а-я]?(?:/\d+)?(?:,?\s*(?:к\.|корп\.|стр\.)\s*\d+)*,?\s*(?:кв\.|квартир[аеуы])\s*\d+",
    re.UNICODE,
)
_EN_STREET_TYPE = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Place|Pl|Crescent|Cres|Court|Ct|"
    r"Terrace|Gardens|Gdns|Grove|Boulevard|Blvd|Square|Sq|Hill|Row|Mews|Walk|Parkway|Pkwy|Highway|"
    r"Hwy|Circle|Park|Rise|View|Green|Vale|Wharf|Parade|Broadway|Gate|End)"
)
_EN_UNIT = r"(?:(?:Flat|Apt\.?|Apartment|Unit|Suite|Ste\.?|Room)\s*#?|#)\s*[0-9]+[A-Za-z]?"
_EN_BUILDING = (
    r"(?:[A-Z][a-z]+\s+){1,3}(?:House|Court|Building|Tower|Lodge|Mansions|Heights|Apartments|Block|"
    r"Hall|Cottages?|Farm),?\s+"
)
_EN_ADDRESS = re.compile(
    r"(?:\b"
    + _EN_UNIT
    + r",?\s+)?(?:"
    + _EN_BUILDING
    + r")?\b\d{1,5}[A-Za-z]?(?:[-/]\d+)?,?\s+(?:(?:[NSEW]\.?|[A-Z][A-Za-z'’\-]+|\d+(?:st|nd|rd|th))"
    r"\s+){1,4}" + _EN_STREET_TYPE + r"\b\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:,?\s*" + _EN_UNIT + r")?",
    re.UNICODE,
)
# A UK postcode, with the town before it ("Leeds LS6 2QT").
# A Russian postal index opening an address ("117292, Москва, ...").
_RU_INDEX = re.compile(r"(?<![\d\w])\d{6}(?=,?\s*(?:г\.|ул\.|[А-ЯЁ]))")
# A post box, or a postal code said to be one ("индекс 191186", "ZIP 62704").
_POSTAL = re.compile(
    r"\bP\.?\s?O\.?\s?Box\s+\d+|\b(?:почтов\w+\s+)?индекс\w*\s*[:№]?\s*\d{6}\b|"
    r"\b(?:zip(?:\s?code)?|post\s?code|postal code)\s*[:#]?\s*[A-Z0-9][A-Z0-9 -]{3,8}[A-Z0-9]\b",
    _I,
)
# A flat, an entrance or an apartment named alone, after the rest of the address ("apartment 12F", "кв. 81").
_UNIT_ALONE = re.compile(
    r"\b(?:кв\.|квартир[аеуы]|подъезд[аеу]?|домофон\w*|apt\.|apartment|flat)\s*(?:№|#)?\s*\d+[A-Za-zА-Яа-я]?\b",
    re.IGNORECASE | re.UNICODE,
)
_UK_POSTCODE = re.compile(r"(?:\b[A-Z][a-z]+(?:[\s-][A-Z][a-z]+)?,?\s)?\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
# "New York, NY 10001": the city with its state and ZIP code.
_US_STATE_ZIP = re.compile(r"(?:\b(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+,\s)?\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b")


# Settlements and regions ("г. Подольск", "с. Берёзовка", "пос. Развилка", "Московская обл."): places,
# whether or not natasha knows the name.
_RU_SETTLEMENT = re.compile(
    r"(?<![\w.])(?:г\.|гор\.|город[аеу]?|с\.|село|сел[аеу]|дер\.|деревн[яиюе]|пос\.|п\.|посёл(?:ок|ке|ка)|пгт|"
    r"ст-ца|станиц[аеуы]|х\.|хутор[аеу]?|городк[аеу]|городок|поселени[еяи])\s*[А-ЯЁ][а-яё]+(?:[\s-][А-ЯЁ][а-яё]+)?"
    r"|\b[А-ЯЁ][а-яё]+(?:ая|ий|ой|ом|ую|ого)\s+(?:обл\.|област[ьи]|кра[йяею]|р-н|район[аеу]?)(?!\w)",
    re.UNICODE,
)


def place_spans(text: str) -> list[Span]:
    return [(m.start(), m.end(), "LOC") for m in _RU_SETTLEMENT.finditer(text)]


def address_spans(text: str) -> list[Span]:
    spans = [(m.start(), m.end(), "ADDRESS") for m in _RU_ADDRESS.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _EN_ADDRESS.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _UK_POSTCODE.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _RU_INDEX.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _UNIT_ALONE.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _POSTAL.finditer(text)]
    spans += [(m.start(), m.end(), "ADDRESS") for m in _US_STATE_ZIP.finditer(text)]
    return spans


# --- schools -------------------------------------------------------------------------------------
_RU_SCHOOL_WORD = (
    r"(?:школ[аеуыой]*(?:-интернат\w*|-лице\w*|-сад\w*)?|гимнази[яиюей]*|лице[йяюеи]\w*|колледж\w*|"
    r"техникум\w*|интернат\w*|прогимнази\w*|детск\w+\s+сад\w*|д/с|ДОУ|СОШ|ООШ|НОШ|СШ|ГБОУ|МБОУ|МАОУ|"
    r"МКОУ|МОУ|МДОУ|МБДОУ|МАДОУ|ГБДОУ|ГАОУ|ГКОУ|ЧОУ|НОУ|АНОО|ГОУ|ОУ|ФМЛ|ЦО|ГБПОУ|центр\w*\s+образования)"
)
_QUOTED = r"[«\"“„][^«»\"“”„\n]{1,60}[»\"”“]"
_NUMBER_TAIL = r"\s*(?:№|N|No\.?|#)\s*\d+(?:\s?[-/]\s?\d+)?|\s+\d+(?![.,]?\d*\s*(?:класс|лет|год|%|учени|челов))"
_RU_ATTACHED = r"\s+при\s+(?-i:[А-ЯЁ][А-ЯЁа-яё]+(?:\s+[А-ЯЁ][А-ЯЁа-яё]+)*)"  # "Лицей № 1580 при МГТУ"
_RU_NAMED_AFTER = (
    r"\s+(?:имени|им\.)\s+(?-i:(?:[А-ЯЁ]\.\s?){0,2}[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?:\s[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?){0,2})"
    r"|\s+(?:имени|им\.)\s+" + _QUOTED
)
_RU_SCHOOL = re.compile(
    r"(?:\b(?:ГБОУ|МБОУ|МАОУ|МКОУ|МОУ|ГАОУ|ГКОУ|ЧОУ|НОУ|ГБПОУ)\s+(?:г\.\s?[А-ЯЁ][а-яё]+\s+)?)?"
    r"\b" + _RU_SCHOOL_WORD + r"(?:(?:" + _NUMBER_TAIL + r"|\s*" + _QUOTED + r"|" + _RU_NAMED_AFTER + r")"
    r"(?:\s*(?:" + _QUOTED + r"|" + _RU_NAMED_AFTER + r"|" + _RU_ATTACHED + r"))*)"
    r"|\b\d{1,4}\s?-?(?:я|й|ая|ой|ую|ей|ого|ом|ым)\s+(?:школ\w*|гимнази\w*|лице\w*|интернат\w*)"
    # "в школе Летово", "Курчатовской школе": a proper name after the keyword, or a capitalised adjective before it
    r"|\b(?:школ[аеуыой]*|гимнази[яиюей]*|лице[йяюеи]\w*)\s+(?-i:[А-ЯЁ][а-яё]{2,}(?:[\s-][А-ЯЁ][а-яё]+)?)"
    r"|(?-i:\b[А-ЯЁ][а-яё]+(?:ск|ов|ев|ин)(?:ая|ой|ую|ий|ом|ый|ое|ого))\s+(?:школ\w*|гимнази\w*|лице[йяюеи]\w*)",
    re.UNICODE | re.IGNORECASE,
)
_EN_NUMBERED_SCHOOL = re.compile(r"\b(?:school|lyceum|gymnasium|academy)\s*(?:No\.?|№|#|number)?\s*\d+\b", _I)
# Schools named in their own language, the keyword first ("Ysgol Bryn Castell", "Szkoła Podstawowa nr 12").
_FOREIGN_SCHOOL = re.compile(
    r"\b(?:Ysgol|Szkoła|Szkola|École|Ecole|Lycée|Lycee|Collège|Escuela|Colegio|Instituto|Liceo|Scuola|Istituto|"
    r"Gimnazjum|Liceum|Schule|Gymnasium|Realschule|Gesamtschule|Grundschule|Escola|Scoil|Gaelscoil|Coláiste|"
    r"Sgoil)(?:\s+(?:[A-ZÀ-ÝŁŚŻŹĆŃ][\wÀ-ÿłśżźćńąęó'’\-]*|nr|no\.?|n°|№|de|du|des|la|le|di|del|der|am|an|\d+))+",
    re.UNICODE,
)
# New York's public, intermediate, middle and junior high schools go by number ("PS 142", "I.S. 318").
_NYC_SCHOOL = re.compile(r"\b(?:P\.S\.|PS|I\.S\.|IS|M\.S\.|MS|J\.H\.S\.|JHS|H\.S\.|HS)\s?\d{1,3}\b")
_EN_SCHOOL_KIND = (
    r"(?:Academy|High School|Senior High|Junior High|High|School|College|Primary|Grammar|Trust|Sixth Form|"
    r"Sixth Form College|Elementary|Middle School|Comprehensive|Federation|Lyceum|Gymnasium|Prep|"
    r"Preparatory|Infants|Juniors|Montessori|Charter)"
)
_EN_QUALIFIER = (
    r"(?:C of E|CE|CofE|RC|Catholic|Church of England|Christian|Community|Free|Junior|Infant|Primary|"
    r"Secondary|High|Middle|Elementary|Grammar|Preparatory|Prep|Comprehensive|Technical|Multi-Academy|"
    r"Academy|Academies|Learning|Education|Educational|Schools|International|Girls'?|Boys'?|"
    r"Independent|Sixth Form|Village|City|County|Upper|Lower|Park|Charter)"
)
_EN_NAME = r"(?:St\.?\s+|Saint\s+)?[A-Z][A-Za-z'’\-]*[a-z][A-Za-z'’\-]*(?:\s+(?:&|and|of|the|upon|on)\s+[A-Z][A-Za-z'’\-]+|\s+[A-Z][A-Za-z'’\-]+)*"
_EN_SCHOOL = re.compile(
    r"(?P<name>" + _EN_NAME + r")(?:\s+" + _EN_QUALIFIER + r")*\s+" + _EN_SCHOOL_KIND + r"\b"
    r"(?:\s+(?:Academy|School|Trust|College|Sixth Form))*(?:(?<=Academy)(?P<place>\s+[A-Z][a-z]+(?:\s\d{1,3}\b)?))?",
    re.UNICODE,
)
# Words that open a phrase without naming anything ("Our Sixth Form", "The Academy Trust").
_NOT_A_NAME = FUNCTION_WORDS | frozenset(
    """last next local public private state secondary primary junior senior
whole another other new old big small summer winter spring autumn sunday saturday monday tuesday wednesday
thursday friday holiday weekend evening night morning open national international independent free catholic
christian church community county city village upper lower year form class key stage during with without
about into onto over under between though although because being""".split()
)


def _english_school_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _EN_SCHOOL.finditer(text):
        start = m.start()
        words = list(re.finditer(r"[A-Za-z'’\-]+|&", m.group("name")))
        kept = 0
        while kept < len(words) and words[kept].group().lower() in _NOT_A_NAME:
            kept += 1
        if kept == len(words):
            continue
        start = m.start("name") + words[kept].start()
        stop = m.end()
        if m.group("place") and m.group("place").strip().lower() in _NOT_A_NAME:
            stop = m.start("place")
        spans.append((start, stop, "SCHOOL"))
    return spans


def school_spans(text: str) -> list[Span]:
    spans = [(m.start(), m.end(), "SCHOOL") for m in _RU_SCHOOL.finditer(text) if _names_one(m.group(), text, m.end())]
    spans += [(m.start(), m.end(), "SCHOOL") for m in _EN_NUMBERED_SCHOOL.finditer(text)]
    spans += [(m.start(), m.end(), "SCHOOL") for m in _NYC_SCHOOL.finditer(text)]
    spans += [(m.start(), m.end(), "SCHOOL") for m in _FOREIGN_SCHOOL.finditer(text)]
    spans += _english_school_spans(text)
    return spans


_SCHOOL_BEFORE_QUOTE = re.compile(
    r"(?:ГБОУ|МБОУ|МАОУ|МКОУ|МОУ|ГАОУ|ГКОУ|ЧОУ|НОУ|ГБПОУ|АНО|АНОО|ЧУ|школ\w*|лице\w*|гимнази\w*|колледж\w*|"
    r"учреждени\w*|организаци\w*)\s*[«\"“„]\s*$",
    re.IGNORECASE,
)


def is_quoted_title(text: str, start: int) -> bool:
    """A school-like name that opens a quotation no school word leads to is a title: a programme, a
    textbook, a contest ("программа «Школа России»", "УМК «Школа 2100»"), not "ГБОУ «Школа № 1535»"."""
    before = text[max(0, start - 40) : start]
    return bool(re.search(r"[«\"“„]\s*$", before)) and not _SCHOOL_BEFORE_QUOTE.search(before)


def _names_one(match: str, text: str, stop: int) -> bool:
    """A bare number after a school keyword ("Школа 1535", "из лицея 1535 приезжали") is the school's,
    unless a counted noun follows it: "в школе 30 учителей" is a count, not a school."""
    if is_quoted_title(text, stop - len(match)):
        return False
    if not re.search(r"\d", match):
        return True  # a name in quotes, "имени ...", a proper name after or an adjective before
    if re.search(r"№|\bN\b|No|#|[«\"“„]|имени|им\.|\d\s?-?[а-я]+\s", match) or match[0].isupper():
        return True
    return not _COUNTED.match(text[stop:])


# The noun a number counts ("в школе 30 учителей", "1200 учеников", "5 лет"): that number is no school's.
_COUNTED = re.compile(
    r"\s*(?:[а-яё]+(?:ов|ев|ёв|ей|ий|их|ых|ек|ок|ах|ям|ам)|человек|лет|год\w*|раз|мест|%|класс\w*|"
    r"учащихся|ребят|детей)\b",
    re.IGNORECASE,
)
