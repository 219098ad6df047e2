import pytest

from tocsin.text.language import LanguageGuess, LanguageIdentifier

SHORT = [
    ("ядерна зброя", "uk"),
    ("ядерное оружие", "ru"),
    ("Це не блеф", "uk"),
    ("Это не блеф", "ru"),
    ("Путін заявив", "uk"),
    ("Путин заявил", "ru"),
    ("Москва пригрозила Заходу", "ru"),
    ("Москва погрожує Заходу", "uk"),
    ("Київ", "uk"),
    ("nuclear weapons", "en"),
    ("armes nucléaires", "fr"),
    ("Not a bluff, he said.", "en"),
    ("Ce n'est pas du bluff.", "fr"),
]


@pytest.mark.parametrize(("text", "expected"), SHORT)
def test_short_texts_in_the_four_languages(languages: LanguageIdentifier, text: str,
                                          expected: str) -> None:
    assert languages.identify(text).code == expected


SENTENCES = [
    ("The ministry said the exercise would test the readiness of nuclear forces.", "en"),
    ("Le Kremlin a annoncé des exercices avec des armes nucléaires tactiques.", "fr"),
    ("Министерство обороны начало учения с нестратегическим ядерным оружием.", "ru"),
    ("Міністерство оборони розпочало навчання з нестратегічною ядерною зброєю.", "uk"),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_sentences(languages: LanguageIdentifier, text: str, expected: str) -> None:
    guess = languages.identify(text)
    assert guess.code == expected
    assert guess.confidence >= 0.5


@pytest.mark.parametrize("text", ["", "12345", "OK", "!!! ???", "2023-02-21 14:30"])
def test_undetermined_when_too_little_text(languages: LanguageIdentifier, text: str) -> None:
    assert languages.identify(text).code == "und"


def test_never_returns_a_language_it_was_not_asked_for() -> None:
    only_latin = LanguageIdentifier(("en", "fr"))
    assert only_latin.identify("Atomwaffen werden nicht stationiert, sagte der Minister.").code \
        in {"en", "fr", "und"}
    with pytest.raises(ValueError, match="no language data"):
        LanguageIdentifier(("en", "xx"))


def test_a_declared_language_in_the_wrong_alphabet_is_identified(text_stage) -> None:
    from tocsin.model import RawItem

    item = RawItem(origin="x", source="Desk", language="en",
                   text="Україна не погодиться на ядерний шантаж, заявив президент у зверненні.")
    assert text_stage.prepare(item).language == "uk"
    kept = RawItem(origin="x", source="Desk", language="ru",
                   text="Москва заявила, что не видит оснований менять доктрину.")
    assert text_stage.prepare(kept).language == "ru"


# Posts as channels write them: Latin acronyms, hashtags, links and emoji among Cyrillic.
UKRAINIAN_POSTS = [
    "⚡️ Повітряні сили: над Київщиною збито 12 крилатих ракет Х-101, ще дві ракети "
    "Іскандер-М впали поблизу Білої Церкви. #новини https://t.me/example/123",
    "Зеленський закликав партнерів з NATO пришвидшити постачання систем Patriot та "
    "IRIS-T: «Кожна ракета, яку ми збиваємо, рятує життя».",
    "У Генштабі ЗСУ повідомили, що ворог перекинув до Білорусі ще один дивізіон "
    "комплексів, здатних нести ядерні боєголовки.",
]
RUSSIAN_POSTS = [
    "❗️ Минобороны РФ: расчёты «Искандер-М» отработали электронные пуски в рамках "
    "учений нестратегических ядерных сил. Подробнее — на сайте ведомства.",
    "Песков заявил, что Кремль не видит причин менять ядерную доктрину, несмотря на "
    "поставки ATACMS и Storm Shadow: они вызывают лишь раздражение. #новости",
    "В Калининградской области объявлены внезапные проверки боеготовности, сообщает "
    "телеграм-канал «Военный обозреватель».",
]


@pytest.mark.parametrize("text", UKRAINIAN_POSTS)
def test_ukrainian_posts_are_ukrainian(languages: LanguageIdentifier, text: str) -> None:
    assert languages.identify(text) == LanguageGuess("uk", 1.0)


@pytest.mark.parametrize("text", RUSSIAN_POSTS)
def test_russian_posts_are_russian(languages: LanguageIdentifier, text: str) -> None:
    assert languages.identify(text) == LanguageGuess("ru", 1.0)


def test_a_cyrillic_stream_needs_no_latin_models() -> None:
    """Letters of one language alone decide without lingua; a Cyrillic text they do not
    decide asks lingua's Russian-Ukrainian detector, never the English-French one."""
    fresh = LanguageIdentifier(("en", "fr", "ru", "uk"))
    for text in UKRAINIAN_POSTS + RUSSIAN_POSTS:
        fresh.identify(text)
    assert fresh.built == ()
    assert fresh.identify("Путин заявил о начале учений").code == "ru"  # no own letters
    assert fresh.built == (("ru", "uk"),)
    assert fresh.identify("The ministry announced new drills near the border.").code == "en"
    assert fresh.built == (("ru", "uk"), ("en", "fr"))


def test_a_text_of_both_alphabets_is_read_by_all_languages() -> None:
    """Half English, half Ukrainian: lingua weighs all four languages, as it did before
    the script short-cut (the alphabet most words use wins)."""
    fresh = LanguageIdentifier(("en", "fr", "ru", "uk"))
    mixed = ("The president said the strikes would continue. Президент заявив, що удари "
             "триватимуть.")
    assert fresh.identify(mixed).code in {"en", "uk"}
    assert fresh.built == (("en", "fr", "ru", "uk"),)


def test_a_long_text_is_not_judged_by_its_beginning_alone(languages: LanguageIdentifier) -> None:
    """A French lead before a long English report: the language of most of the text, as
    when the whole sample is read, not of the first lines."""
    french = ("Le ministère russe de la Défense a annoncé mardi le début d'exercices "
              "impliquant des armes nucléaires tactiques près de la frontière ukrainienne. ")
    english = ("The ministry said the drills would test the readiness of the units that "
               "handle non-strategic weapons, and that aircraft and missile brigades of the "
               "Southern Military District would take part. Officials in Washington said "
               "they were watching closely but saw no sign that Moscow intended to use such "
               "weapons. Analysts noted that the announcement came days before a summit of "
               "allied leaders and described it as a signal rather than a change in posture. ")
    assert languages.identify(english * 3).code == "en"
    assert languages.identify(french * 2).code == "fr"
    assert languages.identify(french * 2 + english * 3).code == "en"
