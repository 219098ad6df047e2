import pytest

from tocsin.text.language import LanguageIdentifier

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
