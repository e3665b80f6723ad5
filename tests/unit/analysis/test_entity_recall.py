"""Entity forms of issue 17 item 3: amounts without a currency word, dictated alphanumeric order
numbers, spelled e-mails, a per-tenant order-number pattern. Examples written for these tests."""

from __future__ import annotations

import pytest
from callsight.analysis.entities import EntityExtractor, spoken_emails
from callsight.analysis.languages import language_pack


def extractor(language: str) -> EntityExtractor:
    pack = language_pack(language)
    assert pack is not None
    return EntityExtractor(pack, "RU", lambda phone: "hash")


def found(language: str, *texts: str, kind: str = "money") -> list[str]:
    return [f.value for turn in extractor(language).find(list(texts)) for f in turn if f.type == kind]


@pytest.mark.parametrize(
    ("language", "text", "value"),
    [
        ("en", "Yeah, it's twelve ninety-nine right now.", "1299 USD"),
        ("en", "I paid twelve hundred forty nine for it last month.", "1249 USD"),
        ("en", "The installation fee is eighty nine.", "89 USD"),
        ("en", "The total comes to three forty five with the cable.", "345 USD"),
        ("ru", "Я за него платила двадцать шесть тысяч.", "26000 RUB"),
        ("ru", "Он сейчас стоит сорок четыре девятьсот девяносто.", "44990 RUB"),
        ("ru", "Доставка стоит три с половиной тысячи.", "3500 RUB"),
        ("ru", "Подъём на этаж обойдётся в полторы тысячи.", "1500 RUB"),
        ("ru", "Вернём вам шестнадцать четыреста на карту.", "16400 RUB"),
    ],
)
def test_an_amount_in_a_price_context_is_money_in_the_language_currency(
    language: str, text: str, value: str
) -> None:
    assert found(language, text) == [value]


def test_an_answer_to_how_much_is_money() -> None:
    assert found("en", "How much is the wall mount?", "Fifty nine.") == ["59 USD"]
    assert found("ru", "А сколько стоит подключение?", "Тысяча девятьсот.") == ["1900 RUB"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The Core six hundred costs more than I thought."),
        ("en", "Is the XPS thirteen cheaper than the fifteen?"),
        ("en", "What's the price of the RF seventy to two hundred lens?"),
        ("en", "It's twenty two and a half inches, what's the price on that?"),
        ("en", "I paid for it on the twelfth of March."),
        ("en", "It's three hundred square feet, what would it cost to cool?"),
        ("en", "How much for two pieces? I need twelve units."),
        ("ru", "Сколько стоит кондиционер на двадцать два градуса?"),
        ("ru", "Какая цена у Samsung серии восемь?"),
        ("ru", "Оплата в рассрочку на двенадцать месяцев."),
        ("ru", "Я заплатил пятого марта."),
        ("ru", "Сколько стоит Galaxy двадцать четыре?"),
    ],
)
def test_models_units_dates_and_quantities_are_not_money(language: str, text: str) -> None:
    assert found(language, text) == []


def test_a_number_without_a_price_context_is_not_money() -> None:
    assert found("en", "I'll be there in twenty five minutes, my flat is three forty.") == []
    assert found("ru", "Мы живём в доме сорок четыре, это недалеко.") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("My email is john dot smith at gmail dot com.", "john.smith@gmail.com"),
        ("Sure, it's m garcia ninety one at yahoo dot com", "mgarcia91@yahoo.com"),
        ("Send it to p underscore lee at work dot example dot org.", "p_lee@work.example.org"),
        ("Почта: anna точка petrova собака mail точка ru.", "anna.petrova@mail.ru"),
        ("oleg, нижнее подчёркивание, ivanov, собака, yandex, точка, ru.", "oleg_ivanov@yandex.ru"),
        ("Записал: max.orlov собака bk точка ru, верно?", "max.orlov@bk.ru"),
    ],
)
def test_spelled_emails_are_read_lowercase(text: str, value: str) -> None:
    language = "ru" if any("а" <= c <= "я" for c in text.lower()) else "en"
    assert found(language, text, kind="email") == [value]


def test_at_without_a_dotted_domain_is_not_an_email() -> None:
    assert spoken_emails("they have it at 9 99 at best buy") == []
    assert spoken_emails("ksyu, потом цифры 92, собака, gmail, точка, com") == []  # starts with digits


@pytest.mark.parametrize(
    ("language", "texts", "value"),
    [
        ("en", ["Your order number is B T, three eight two, five five one."], "BT382551"),
        ("en", ["The order is BT-382-551."], "BT382551"),
        ("en", ["What's the order number?", "Q six six zero four."], "Q6604"),
        ("ru", ["Номер заказа М Н, триста восемьдесят два, пятьсот пятьдесят один."], "МН382551"),
        ("ru", ["Подскажите номер заказа.", "Р Т девятьсот ноль сорок."], "РТ900040"),
    ],
)
def test_dictated_letters_belong_to_the_order_number(language: str, texts: list[str], value: str) -> None:
    assert found(language, *texts, kind="order_number") == [value]


def test_a_one_letter_word_before_a_number_is_not_a_prefix() -> None:
    assert found("en", "My order number is, I think, I 5 5 2 1.", kind="order_number") != ["I5521"]
    assert found("ru", "Номер заказа В 55213.", kind="order_number") == ["55213"]


def test_a_tenant_order_pattern_recognises_only_its_ids() -> None:
    pack = language_pack("en")
    assert pack is not None
    tenant = EntityExtractor(pack, "RU", lambda phone: "hash", order_number_pattern=r"AB\d{6}")
    texts = [
        "Hi, it's about AB-123456, and my old order 55512 too.",
        "It's A B, one two three, four five six.",
    ]
    kinds = [(f.type, f.value) for turn in tenant.find(texts) for f in turn]
    assert ("order_number", "AB123456") in kinds
    assert ("order_number", "55512") not in kinds and ("number", "55512") in kinds
    assert [v for k, v in kinds if k == "order_number"] == ["AB123456", "AB123456"]
    assert found("en", "my old order 55512 too", kind="order_number") == ["55512"]  # unset: as before


def test_the_order_pattern_setting_defaults_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from callsight.config import Settings

    assert Settings().order_number_pattern is None
    monkeypatch.setenv("CALLSIGHT_ORDER_NUMBER_PATTERN", r"AB\d{6}")
    assert Settings().order_number_pattern == r"AB\d{6}"


def test_an_order_number_may_follow_its_cue_across_a_comma_or_a_full_stop() -> None:
    assert found("en", "I'm following up on my order. Six two nine one four.", kind="order_number") == [
        "62914"
    ]
    assert found("ru", "Заказ готов, номер пять три восемь ноль два.", kind="order_number") == ["53802"]
    # an amount after the same words stays money
    assert found("ru", "По заказу, итого двадцать восемь тысяч рублей.", kind="order_number") == []
    assert found("en", "About the order, the total is eighteen forty nine.", kind="order_number") == []


def test_thousands_and_hundreds_said_apart_are_a_russian_price() -> None:
    assert found("ru", "Есть модель побольше, тридцать два девятьсот, в белом цвете.") == ["32900 RUB"]
    assert found("ru", "В другом магазине на три тысячи меньше.") == ["3000 RUB"]
    assert found("ru", "Это дом тридцать два, квартира девятьсот.") == []


def test_masking_follows_the_tenant_order_pattern() -> None:
    """The masked transcript (sweep and API) uses the same pattern as the analyzer: one source of truth."""
    from callsight.compliance.masking import mask_transcript
    from callsight.compliance.policies import MaskingPolicy

    from tests.analysis_fixtures import build_transcript

    turns = [
        {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "What is it about?"},
        {"speaker": "customer", "start": 3.0, "end": 7.0, "text": "It's A B, one two three, four five six."},
    ]
    transcript = build_transcript(turns, "en", 2)
    policy = MaskingPolicy(mask_order_numbers=True)
    without, _ = mask_transcript(transcript, language_pack("en"), policy, "US")
    with_pattern, spans = mask_transcript(transcript, language_pack("en"), policy, "US", r"AB\d{6}")
    assert "order_number" in {s.type for s in spans}
    # the tenant's id is one span with its dictated letters; without the pattern, letters dictated
    # before five or more digits make an alphanumeric order number too, masked whole
    assert with_pattern.text.endswith("It's " + " ".join(["[ORDER]"] * 8))
    assert without.text.endswith("It's " + " ".join(["[ORDER]"] * 8))


@pytest.mark.parametrize(
    ("language", "texts", "values"),
    [
        # pairs ending in nine, dollars and cents said as pairs
        ("en", ["The blender is on sale, fifty nine, and the jug is extra."], ["59 USD"]),
        ("en", ["Okay, so the soundbar, three twenty-nine, ships Monday."], ["329 USD"]),
        ("en", ["The refund of four sixty-nine ninety-nine is on its way."], ["469.99 USD"]),
        ("en", ["That toaster is forty nine ninety five."], ["49.95 USD"]),
        ("en", ["The little speaker is sixty-four ninety-nine, it fits in a pocket."], ["64.99 USD"]),
        ("en", ["I want the sixteen forty-nine one, please."], ["1649 USD"]),
        ("en", ["We'll refund three hundred dollars and fifty cents."], ["300.50 USD"]),
        ("en", ["Honestly it's like two grand for a fridge."], ["2000 USD"]),
        ("en", ["You get a twenty-dollar voucher with it."], ["20 USD"]),
        ("en", ["The cable mount is a hundred and ten."], ["110 USD"]),
        ("en", ["Assembly is forty, and recycling the old one is twenty five."], ["40 USD", "25 USD"]),
        ("en", ["It's 80 dollars for one year, or 140 for three years."], ["80 USD", "140 USD"]),
        ("en", ["The other store lists it at eleven forty."], ["1140 USD"]),
        ("en", ["I see it, the Panasonic Inverter, a hundred sixty-nine ninety-nine."], ["169.99 USD"]),
        ("en", ["You'd need a separate grinder, which is another one fifty or so."], ["150 USD"]),
        ("ru", ["Чайник есть, четыре тысячи двести, белый."], ["4200 RUB"]),
        ("ru", ["Сушилка у нас за тыщу восемьсот."], ["1800 RUB"]),
        ("ru", ["Сосед отдал два косаря за установку."], ["2000 RUB"]),
        ("ru", ["За старый ноутбук дадут тысяч пять-шесть."], ["5000 RUB", "6000 RUB"]),
        ("ru", ["Ремонт обойдётся от трёх до пяти тысяч."], ["3000 RUB", "5000 RUB"]),
        ("ru", ["Сборка шкафа — две тысячи двести."], ["2200 RUB"]),
        ("ru", ["Там сорок две, а у вас сорок четыре с половиной, это дороже."], ["42000 RUB", "44500 RUB"]),
        (
            "ru",
            ["Холодильник стоит сорок тысяч.", "Я в прошлом году за такой тридцать отдал."],
            ["40000 RUB", "30000 RUB"],
        ),
    ],
)
def test_spoken_price_forms_are_money(language: str, texts: list[str], values: list[str]) -> None:
    assert found(language, *texts) == values


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "The technician comes between ten and one tomorrow."),
        ("en", "Hold the button for about thirty seconds, then release it."),
        ("en", "We moved here in nineteen ninety-nine, I think."),
        ("en", "I live at twelve forty-nine Maple Street."),
        ("en", "It's a hundred and five outside today."),
        ("en", "It takes another twenty minutes, or another two weeks for the part."),
        ("en", "The phone line is open till twelve, and delivery is eight to eleven."),
        ("ru", "У меня накопилось двенадцать тысяч баллов."),
        ("ru", "Мастер будет с девяти до двенадцати."),
        ("ru", "Пробег у машины сорок тысяч километров, а стоит она дорого."),
        ("ru", "Это было в две тысячи двадцатом году, и заказ стоил дорого."),
        ("ru", "Платёж вернётся в течение пяти рабочих дней."),
    ],
)
def test_times_years_counts_and_addresses_are_not_money(language: str, text: str) -> None:
    assert found(language, text) == []


@pytest.mark.parametrize(
    ("language", "texts", "value"),
    [
        ("en", ["Your reservation number is H as in Hotel, four four one two nine."], "H44129"),
        ("en", ["I cancelled the order yesterday, it's number 7-3-3-0-1."], "73301"),
        ("en", ["Booked. Your confirmation number is six two two eight five."], "62285"),
        ("ru", ["Номер заявки: Д как Дмитрий, пять восемь один ноль два."], "Д58102"),
        ("ru", ["Квитанция пэ эр, сорок один, двести тридцать."], "ПР41230"),
        ("ru", ["Заказ семь ноль, шестьсот ноль три."], "70603"),
        ("en", ["The order number? Sure: T, G as in golf, three one nine nine four."], "TG31994"),
        ("en", ["My order is P as in papa, Q, seven seven zero one five."], "PQ77015"),
    ],
)
def test_spelled_letters_and_booking_cues_make_order_numbers(
    language: str, texts: list[str], value: str
) -> None:
    assert found(language, *texts, kind="order_number") == [value]


def test_an_order_number_said_again_is_not_money() -> None:
    texts = ["Номер заказа пятьдесят три, семьсот сорок.", "Пятьдесят три семьсот сорок, вижу ваш заказ."]
    assert found("ru", *texts, kind="order_number") == ["53740", "53740"]
    assert found("ru", *texts) == []


def test_an_amount_said_with_thousands_is_never_an_order_number() -> None:
    texts = ["Заказ отменён. Тридцать одна тысяча девятьсот вернётся на карту."]
    assert found("ru", *texts, kind="order_number") == []
    assert found("ru", *texts) == ["31900 RUB"]


def test_a_phone_given_after_the_order_question_stays_a_phone() -> None:
    texts = [
        "Whose name is the order under?",
        "Mia Chen. Phone's four one five, five five five, zero one nine two.",
    ]
    assert found("en", *texts, kind="order_number") == []
    assert found("en", *texts, kind="phone") == ["+14155550192"]


def test_an_amount_after_a_dictated_order_number_is_apart() -> None:
    texts = ["I see order five two nine one seven, fourteen forty-nine, placed today."]
    assert found("en", *texts, kind="order_number") == ["52917"]
    assert found("en", *texts) == ["1449 USD"]


@pytest.mark.parametrize(
    ("language", "texts", "value"),
    [
        # letters, a word, then the digits
        ("en", ["Sure. Can I have the order number?", "It's K W, then five five three nine zero."], "KW55390"),
        ("en", ["Order number?", "It's C, B, then three one four four two."], "CB31442"),
        ("ru", ["Номер заказа?", "ТВ, потом шесть, шесть, ноль, один, два."], "ТВ66012"),
        ("ru", ["Номер помните?", "ЭЛ, две буквы, потом три три ноль девять один."], "ЭЛ33091"),
        # lowercase letters as ASR writes them
        ("en", ["hi my order is it's b as in bravo k as in kilo 4 7 2 0 9"], "BK47209"),
        ("en", ["great the trace reference is t-r 4-4-0-8-2"], "TR44082"),
        ("ru", ["номер квитанции подскажите", "сц 4 1 7 7 2"], "СЦ41772"),
        # letters glued to the digits
        ("en", ["Okay, RMA916204, the refund went out yesterday."], "RMA916204"),
        # letters before five digits or more need no cue
        ("en", ["It's on hold until closing tomorrow, under H four one one seven two."], "H41172"),
        ("en", ["You're booked, confirmation B K six two zero nine one."], "BK62091"),
        ("ru", ["Номер повторной отправки — ПО семьдесят восемь пятьсот сорок пять."], "ПО78545"),
        # digits said one by one after the cue, with words between
        ("en", ["Hi, I'm calling about my order, it's three seven one one zero, and I wanted to ask"], "37110"),
        ("en", ["Order number ending... the whole thing is seven seven three one nine two."], "773192"),
        ("en", ["Do you have the order number handy?", "It's G E, no sorry, it's just numbers. Five five two, zero eight, one."], "552081"),
        ("ru", ["Номер заказа или чек у вас есть?", "Чек есть. Там номер, сейчас... сорок два, ноль восемнадцать."], "42018"),
        ("ru", ["Готово, резерв ноль семь три три два, ссылка уже у вас."], "07332"),
        ("ru", ["Обращение номер девяносто один триста сорок."], "91340"),
        ("en", ["Do you have the return reference?", "R R four zero two two seven. The amount was one sixty four fifty."], "RR40227"),
    ],
)  # fmt: skip
def test_dictated_order_numbers_in_varied_forms(language: str, texts: list[str], value: str) -> None:
    assert found(language, *texts, kind="order_number")[-1:] == [value]


def test_an_order_number_said_again_glued_keeps_its_letters() -> None:
    texts = ["Order number?", "H K seven two zero five five.", "HK72055. Great."]
    assert found("en", *texts, kind="order_number") == ["HK72055", "HK72055"]


@pytest.mark.parametrize(
    ("language", "texts", "kind", "values"),
    [
        # phones, money, dates and times near an order stay what they are
        ("en", ["What's the order number?", "Sure, call me on four one five, five five five, zero one nine two."], "phone", ["+14155550192"]),
        ("en", ["I want to order it.", "That's three forty nine ninety nine right now."], "money", ["349.99 USD"]),
        ("ru", ["Хочу заказать чайник.", "Чайник 3 290, тостер 2 790, вместе 6 080."], "order_number", []),
        ("ru", ["Заказ 267158 вижу, курьер не вышел.", "Отменяйте, верните деньги 24990 и всё."], "money", ["24990 RUB"]),
        ("ru", ["Хорошо, заказ отменён, возврат 24990 на карту оформлен."], "money", ["24990 RUB"]),
        ("ru", ["Заказ оформлен в ноль ноль двенадцать, промокод уже не действовал."], "order_number", []),
        ("en", ["My order came on the twelfth of March, twenty twenty five."], "order_number", []),
        ("en", ["Samsung, A fifty five. Blue color."], "order_number", []),
        ("en", ["I have the RTX 4090 and the XPS 13."], "order_number", []),
        ("ru", ["Шкаф 120 см, 45 кг, доставка 12 марта."], "order_number", []),
        ("en", ["Phone is C as in Charlie, I mean, four one five, five five five, zero one nine two."], "order_number", []),
    ],
)  # fmt: skip
def test_phones_money_dates_and_models_do_not_become_order_numbers(
    language: str, texts: list[str], kind: str, values: list[str]
) -> None:
    assert found(language, *texts, kind=kind) == values


@pytest.mark.parametrize(
    ("texts", "values"),
    [
        # a budget or estimate with «тысяч» before the preposition, and the amounts said beside it
        (["Я рассчитывала тысяч на пятнадцать, ну максимум двадцать."], ["15000 RUB", "20000 RUB"]),
        (["Думала, тысяч в сорок уложимся."], ["40000 RUB"]),
        (["Мне любой нормальный, тысяч до двадцати пяти."], ["25000 RUB"]),
        (["Я думал, тысяч десять, ну пятнадцать."], ["10000 RUB", "15000 RUB"]),
        (["У нас на всё тридцать тыщ выделено."], ["30000 RUB"]),
        (["Выделили миллион двести на всё, с мышками и сумками."], ["1200000 RUB"]),
    ],
)
def test_russian_estimates_in_thousands_are_money(texts: list[str], values: list[str]) -> None:
    assert found("ru", *texts) == values


@pytest.mark.parametrize(
    "text",
    [
        "Монтаж — восемнадцать тысяч, трасса до трёх метров.",
        "Восемнадцать тысяч за дырку в стене и две трубки?",
        "Пять тысяч за три дня, это много.",
        "Двадцать тысяч на двенадцать месяцев без переплаты.",
    ],
)
def test_counts_and_units_beside_an_amount_in_thousands_are_not_money(text: str) -> None:
    assert len(found("ru", text)) == 1


@pytest.mark.parametrize(
    ("texts", "values"),
    [
        # differences, ceilings and budgets said without a currency word
        (["It's eleven nineteen there. Same config. Eighty less."], ["1119 USD", "80 USD"]),
        (["Costco has the bar and the sub for like forty less than your bar alone."], ["40 USD"]),
        (["I was thinking like 700 tops."], ["700 USD"]),
        (
            ["That's more than I budgeted. I was thinking two hundred, maybe two fifty."],
            ["200 USD", "250 USD"],
        ),
        (["We were hoping to stay closer to thirty-five hundred."], ["3500 USD"]),
        # fees, refunds and prices said with a cue the shorthand alone lacks
        (["A visit plus the pump is eighty-nine for the visit."], ["89 USD"]),
        (["Freight to Vermont is forty-nine."], ["49 USD"]),
        (["Same-day is twenty-nine."], ["29 USD"]),
        (["It's cancelled, and the full eleven ninety-eight goes back to your card."], ["1198 USD"]),
        (["The amount was one sixty four fifty."], ["164.50 USD"]),
        (["Six forty-nine there, and yours is seven oh nine."], ["649 USD", "709 USD"]),
        (
            ["The Whirlpool at nineteen forty-nine or the Samsung at twenty-three fifty."],
            ["1949 USD", "2350 USD"],
        ),
        (["So the large-screen mounting at two forty-nine."], ["249 USD"]),
        # dollars and cents by the way they are said or by what they pay for
        (["Next-day is fourteen ninety-nine, and that leaves you a day."], ["14.99 USD"]),
        (["It's six forty-nine, plus twenty-nine ninety-nine for express."], ["649 USD", "29.99 USD"]),
        (["I need to pay a customs fee of one ninety-nine through a link."], ["1.99 USD"]),
        (["With tax it comes to nine oh four and twelve cents."], ["904.12 USD"]),
        (["Together with the discount it's three hundred and thirty-two sixty."], ["332.60 USD"]),
        (["Lovely TV. It's two thousand four ninety-nine right now."], ["2499 USD"]),
        (["The installation package is one ninety-nine."], ["199 USD"]),
    ],
)
def test_english_differences_budgets_and_fees_are_money(texts: list[str], values: list[str]) -> None:
    assert found("en", *texts) == values


@pytest.mark.parametrize(
    "text",
    [
        "The guy was due today between nine and one. It's two thirty. Nobody.",
        "The app says my iPad was left at my front door at two fourteen this afternoon.",
        "I'll pick it up this evening at six thirty.",
        "See you at ten, the store opens at nine.",
        "Curbside? So you leave two hundred pounds of appliances on the sidewalk?",
        "For appliances over a hundred pounds our crews deliver to the ground floor.",
        "The headphones are in locker fourteen at grand avenue, the pickup code is in a text.",
        "It's thirty-five and three-quarters wide, seventy inches tall.",
        "The basic top-freezer, eighteen cubic feet in white, costs more.",
        "You can do twelve equal monthly payments with no interest.",
        "For twelve or more our business team does a quote.",
        "My TV's a Panasonic from about 2014, and I'm not sure it has ARC.",
        "It's a little less than I expected, one less thing to do.",
        "The discount is fifteen percent off both.",
    ],
)
def test_times_weights_lockers_sizes_and_counts_are_not_money_in_english(text: str) -> None:
    assert found("en", text) == []


def test_pounds_of_money_stay_sterling() -> None:
    assert found("en", "It costs fifty pounds in London.") == ["50 GBP"]


@pytest.mark.parametrize(
    ("texts", "values"),
    [
        (["Ремонт девять восемьсот.", "Девять восемьсот?! Я его за четырнадцать брал."], ["9800 RUB", "9800 RUB", "14000 RUB"]),
        (["Да, до воскресенья акция, двадцать семь девятьсот девяносто.", "Я везде по тридцать пять видел."],
         ["27990 RUB", "35000 RUB"]),
        (["Чайник 3 290, тостер 2 790, вместе 6 080, доставка бесплатная от 5 000."],
         ["3290 RUB", "2790 RUB", "6080 RUB", "5000 RUB"]),
        (["Мне нужно десять айфонов, по сто двадцать девять девятьсот."], ["129900 RUB"]),
        (["Холодильник и вывоз старого холодильника, девятьсот девяносто."], ["990 RUB"]),
        (["Экспресс-доставка завтра, четыреста девяносто."], ["490 RUB"]),
    ],
)  # fmt: skip
def test_russian_prices_with_a_verb_a_total_a_threshold_or_a_service(
    texts: list[str], values: list[str]
) -> None:
    assert found("ru", *texts) == values


@pytest.mark.parametrize(
    "text",
    [
        "Кондиционеры на девять тысяч БТЕ у вас есть?",
        "У Hisense тоже сто двадцать герц, но картинка хуже.",
        "Вижу, миксер МФК две тысячи, белый.",
        "Положите по три штуки в каждую коробку.",
    ],
)
def test_btu_hertz_cyrillic_models_and_counts_are_not_money(text: str) -> None:
    assert found("ru", text) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # the new cues ("less", "maybe", "I was thinking", «по», «вместе», «брал») leave these alone
        ("en", "It was delivered on March twelfth, two days less than promised."),
        ("en", "My number is four one five, five five five, zero one nine two, thanks."),
        ("en", "The error code is E twenty one, I was thinking it is the pump."),
        ("en", "The TV is fifty five inches, maybe sixty five."),
        ("ru", "Скидка двадцать процентов, по акции."),
        ("ru", "Заказ номер сорок девять сто пятнадцать, вместе с доставкой."),
        ("ru", "Я брал его третьего марта."),
    ],
)
def test_dates_phones_codes_sizes_percentages_and_orders_stay_out_of_money(language: str, text: str) -> None:
    assert found(language, text) == []
