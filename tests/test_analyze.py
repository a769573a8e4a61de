"""Analyzer rules on realistic chat lines, and lexicon validation.

Each test states the rule it pins down; they use the bundled lexicon and the real rjieba
tokenizer (engine identity is covered in test_text.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from persona.analyze import Analyzer
from persona.attributes import age_bucket
from persona.lexicon import FILES, LexiconError
from persona.lexicon_parse import parse_lexicon
from persona.resources import default_lexicon, default_texts
from persona.signals import CONTENT_CODES, INTENT_CODES, MOTIVATION_CODES, Signals
from persona.text import make_tokenizer

TS = datetime(2026, 3, 1, 20, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    lexicon = default_lexicon()
    return Analyzer(lexicon, make_tokenizer("rjieba", lexicon.user_words()))


@pytest.fixture(scope="module")
def an(analyzer):
    """Shorthand: text message at TS."""
    return lambda text, ts=TS: analyzer.analyse(text, "text", ts)


# --------------------------------------------------------------------------------------------
# interests
# --------------------------------------------------------------------------------------------

INTEREST_LINES = {
    "travel": "下个月想去云南旅行",
    "digital": "新买的耳机音质很好",
    "reading": "最近在看一本推理小说",
    "parenting": "宝宝开始吃辅食了",
    "beauty": "这款防晒霜一点都不油",
    "fitness": "每天晚上去跑步",
    "food": "周末一起去吃火锅吧",
    "fashion": "这件羽绒服很保暖",
    "home": "新房装修选了灰色沙发",
    "pets": "家里的猫咪挑食",
    "education": "下周期末考试，还在刷题",
    "finance": "最近在研究基金定投",
    "auto": "准备换车，看中了比亚迪",
    "entertainment": "昨晚追剧到两点",
    "games": "周末一起打游戏",
    "health": "最近失眠，想调理一下",
}


def test_every_taxonomy_code_has_a_test_line():
    assert set(INTEREST_LINES) == {i.code for i in default_lexicon().interests}
    assert len(INTEREST_LINES) == 16


@pytest.mark.parametrize(("code", "line"), INTEREST_LINES.items())
def test_each_interest_is_detected(an, code, line):
    assert code in an(line).interests


def test_interest_score_counts_distinct_keywords_capped_at_three(an):
    assert an("旅行，旅行，旅行").interests == {"travel": 1.0}
    assert an("机票酒店都订好了，下周去海岛度假").interests["travel"] == 3.0
    assert an("机票订好了，酒店还没订").interests["travel"] == 2.0


@pytest.mark.parametrize(
    "line", ["不喜欢旅行", "从来不玩游戏", "我不是很喜欢旅行", "没怎么看书", "不看电影"]
)
def test_negated_interest_does_not_count(an, line):
    assert an(line).interests == {}


def test_a_not_a_question_is_not_a_negation(an):
    s = an("喜不喜欢旅行？")
    assert s.interests == {"travel": 1.0}
    assert s.intents == ["question"]


def test_ascii_brand_with_model_number(an):
    assert an("ｉＰｈｏｎｅ１５好用吗").interests == {"digital": 1.0}
    assert an("PS5上有什么好玩的").interests == {"games": 1.0}


def test_tokens_not_substrings(an):
    s = an("贵州茅台")
    assert s.intents == []
    assert s.motivations == {}
    assert an("我家在猫儿山附近").interests == {}  # 猫儿山 is a place, not a cat


# --------------------------------------------------------------------------------------------
# intents
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["这个怎么用？", "好用吗", "有没有优惠", "你呢", "能不能便宜点", "求推荐一款洗面奶",
     "请问几点开团", "这个是不是正品"],
)  # fmt: skip
def test_questions(an, line):
    assert "question" in an(line).intents


@pytest.mark.parametrize(
    "line", ["好的呢", "我在上班呢", "什么都行", "没问题", "收到，谢谢", "还没到呢"]
)
def test_not_questions(an, line):
    assert "question" not in an(line).intents


@pytest.mark.parametrize(
    "line",
    ["太贵了", "质量差", "客服不理人", "这个有问题", "用了两天就坏了", "买到假货了",
     "怎么这么贵", "不满意", "不好用", "不推荐", "发货太慢了",
     # lateness said as waiting (round 5); negated service praise
     "等了一个半小时才送到，菜都凉了", "下单一周才发货", "客服一点都不专业",
     # round 6: a thing and its fault (persona/phrases.py pains) is a complaint in a chat line,
     # with no cue word and whatever the model reads (p 0.15-0.46 for these)
     "鞋子穿了一天就开胶了", "书的纸张很薄，字都透到背面了", "牛奶包装盒瘪了好几个，里面还漏了",
     "点了两份少送了一份，打电话给商家也不接"],
)  # fmt: skip
def test_complaints(an, line):
    s = an(line)
    assert "complaint" in s.intents
    assert "praise" not in s.intents


def test_pain_phrase_evidence_needs_a_said_aspect_and_a_chat_length_line(an):
    # 晚 alone reads as 物流晚 in a card, but the message says nothing of delivery
    assert "complaint" not in an("做设计的，天天加班到很晚").intents
    # a phrase in a long message is incidental (a book's story): the model judges the whole
    story = ("读完以后觉得这本书写得很真实，草原是个脆弱的平衡生态，除了食物短缺，"
             "环境恶劣也会让动物们过得很难，作者用了很多细节讲述这些，值得一读")
    assert "complaint" not in an(story).intents


@pytest.mark.parametrize(
    "line", ["很好用，已经回购了", "不错", "物美价廉，强烈推荐", "真香", "很喜欢，谢谢群主",
             # round 5: the model read the first as a complaint (p 0.51, a product named)
             "热水器安装师傅很专业，出水很快", "牛奶日期很新鲜，孩子爱喝",
             # round 6: the model read it as a complaint (p 0.68)
             "热水器安装师傅很准时，出热水快，洗澡很舒服"]
)
def test_praise(an, line):
    s = an(line)
    assert "praise" in s.intents
    assert "complaint" not in s.intents


@pytest.mark.parametrize(
    "line", ["链接发我", "我想买两盒", "已下单", "帮我留一份", "团购我要两份", "还有货吗"]
)
def test_purchase_intent(an, line):
    assert "purchase_intent" in an(line).intents


def test_asking_how_to_buy_is_a_question_and_purchase_intent(an):
    assert an("怎么买？").intents == ["question", "purchase_intent"]
    assert an("多少钱？").intents == ["question", "purchase_intent"]


def test_intents_follow_the_contract_order(an):
    s = an("太贵了，有没有优惠？不过质量不错，想买")
    assert s.intents == ["question", "complaint", "purchase_intent", "praise"]
    assert set(s.intents) <= set(INTENT_CODES)


# --------------------------------------------------------------------------------------------
# negation and questions (the cases from the brief)
# --------------------------------------------------------------------------------------------


def test_bu_gui_is_price_awareness_not_a_complaint(an):
    s = an("不贵")
    assert s.intents == []
    assert s.motivations == {"price": 1.0}


def test_tai_gui_le_is_a_complaint(an):
    s = an("太贵了")
    assert s.intents == ["complaint"]
    assert s.motivations == {"price": 1.0}


@pytest.mark.parametrize("line", ["没问题", "没事", "不客气", "没问题，谢谢", "刚才收到了",
                                  "刚才发货了哈", "快递刚才到货了"])
def test_fixed_expressions_are_nothing(an, line):
    assert an(line).intents == []


def test_negated_praise_is_a_complaint(an):
    assert an("不满意").intents == ["complaint"]
    assert an("不是很满意").intents == ["complaint"]
    assert an("效果不太好用").intents == ["complaint"]


def test_question_about_discount_is_not_complaint_or_purchase(an):
    s = an("有没有优惠？")
    assert s.intents == ["question"]
    assert s.motivations == {"price": 1.0}


def test_question_about_price_is_not_a_complaint(an):
    s = an("会不会很贵？")
    assert s.intents == ["question"]
    assert s.motivations == {"price": 1.0}


def test_presupposing_question_keeps_the_complaint(an):
    assert an("为什么还没到？").intents == ["question", "complaint"]
    assert an("怎么又坏了？").intents == ["question", "complaint"]


def test_question_about_praise_is_not_praise(an):
    assert an("好用吗？").intents == ["question"]
    assert an("好不好用？").intents == ["question"]


def test_negated_purchase(an):
    assert an("不想买").intents == []
    assert an("暂时不需要下单").intents == []


def test_negated_interest_verb_is_not_a_complaint(an):
    s = an("不喜欢旅行")
    assert s.intents == []
    assert s.interests == {}


def test_liking_a_hobby_is_interest_not_praise(an):
    s = an("我喜欢旅行")
    assert s.interests == {"travel": 1.0}
    assert s.intents == []


@pytest.mark.parametrize("line", ["没坏", "不差", "一点都不贵", "并没有很贵"])
def test_negated_complaint_cues(an, line):
    assert "complaint" not in an(line).intents


def test_wenti_depends_on_context(an):
    assert an("这个有问题").intents == ["complaint"]
    assert an("没问题").intents == []
    assert an("有什么问题吗？").intents == ["question"]
    assert an("没有问题").intents == []


def test_negation_is_clause_local(an):
    s = an("不用等，太贵了")
    assert "complaint" in s.intents


# --------------------------------------------------------------------------------------------
# motivations
# --------------------------------------------------------------------------------------------


def test_motivations(an):
    assert an("这个是正品吗，成分安全吗").motivations == {"quality": 2.0}
    assert an("发什么快递？包邮吗").motivations == {"service": 2.0}
    s = an("有优惠券吗，满减活动什么时候开始，质量怎么样")
    assert s.motivations == {"price": 2.0, "quality": 1.0}
    assert set(s.motivations) <= set(MOTIVATION_CODES)


# --------------------------------------------------------------------------------------------
# attributes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "city"),
    [
        ("我在杭州", "杭州"),
        ("坐标成都，90后", "成都"),
        ("我是杭州人", "杭州"),
        ("我们杭州这边下雨了", "杭州"),
        ("杭州这边下雨了", "杭州"),
        ("我现在住在苏州市", "苏州"),
        ("来自义乌，做电商的", "义乌"),
        ("我住在桐庐县，周末来玩", "桐庐"),  # jieba place word, not in cities.txt
    ],
)
def test_city_from_self_reference(an, line, city):
    assert an(line).attributes.get("city") == city


@pytest.mark.parametrize(
    "line", ["我朋友在杭州", "你们杭州这边冷吗", "她在北京工作", "我不在杭州", "杭州的东西好吃"]
)
def test_no_city_about_others(an, line):
    assert "city" not in an(line).attributes


def test_dropped_subject_carries_to_the_next_clause(an):
    assert an("我老家在四川，现在在广州上班").attributes == {"city": "广州"}
    assert an("我老家在杭州").attributes == {}  # a hometown is not where one lives
    assert an("我朋友说，在杭州买的").attributes == {}


def test_sellers_form_of_address_is_not_a_baby(an):
    assert an("宝宝们晚上好，今晚八点直播间见").interests == {}
    assert an("宝宝，这款适合你").interests == {}
    assert an("宝宝湿疹反复").interests == {"parenting": 2.0}


def test_first_self_city_in_message(an):
    assert an("她在北京工作，我在天津").attributes == {"city": "天津"}


@pytest.mark.parametrize(
    ("line", "ts", "bucket"),
    [
        ("90后宝妈一枚", TS, "25-34"),  # born 1990–1999 → midpoint 1995 → 31 in 2026
        ("90后", datetime(2015, 6, 1, tzinfo=UTC), "18-24"),  # 20 in 2015
        ("95后", TS, "25-34"),  # midpoint 1997 → 29
        ("00后大学生", TS, "18-24"),  # 2005 → 21
        ("85后宝爸", TS, "35-44"),  # 1987 → 39
        ("我今年28", TS, "25-34"),
        ("我28岁", TS, "25-34"),
        ("今年四十五了", TS, "45-54"),
        ("我是85年的", TS, "35-44"),  # 41
        ("本人60后，退休了", TS, "55+"),
    ],
)
def test_age_range(an, line, ts, bucket):
    assert an(line, ts).attributes.get("age_range") == bucket


@pytest.mark.parametrize(
    "line", ["孩子3岁", "我老公85后", "现在的00后都不爱吃", "10后", "买了28个", "我家宝宝两岁了"]
)
def test_no_age(an, line):
    assert "age_range" not in an(line).attributes


def test_age_bucket_edges():
    assert [age_bucket(a) for a in (17, 18, 24, 25, 34, 35, 44, 45, 54, 55, 90)] == [
        None, "18-24", "18-24", "25-34", "25-34", "35-44", "35-44", "45-54", "45-54",
        "55+", "55+",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "gender"),
    [
        ("我老公说这个面膜不错", "female"),
        ("我是宝妈", "female"),
        ("怀孕五个月了，能吃螃蟹吗", "female"),
        ("我老婆说想要", "male"),
        ("宝爸一枚", "male"),
        ("我老婆怀孕了", "male"),
    ],
)
def test_gender(an, line, gender):
    assert an(line).attributes.get("gender") == gender


@pytest.mark.parametrize("line", ["她怀孕了", "我不是宝妈，是帮朋友问的", "宝妈们晚上好"])
def test_no_gender(an, line):
    assert "gender" not in an(line).attributes


@pytest.mark.parametrize(
    ("line", "stage"),
    [
        ("我家宝宝两岁了", "parent"),
        ("孩子的老师说明天交作业", "parent"),
        ("周末带娃好累", "parent"),
        ("怀孕五个月了", "expecting"),
        ("我老婆怀孕了", "expecting"),
        ("备孕中，叶酸吃哪个牌子好？", "expecting"),
        ("我们宿舍晚上断电", "student"),
        ("考研党一枚", "student"),
        ("退休了在家带孙子", "retired"),
        ("我退休好几年了", "retired"),
    ],
)
def test_life_stage(an, line, stage):
    assert an(line).attributes.get("life_stage") == stage


@pytest.mark.parametrize("line", ["我妈退休了", "她怀孕了", "现在的孩子都很聪明", "我还没退休"])
def test_no_life_stage(an, line):
    assert "life_stage" not in an(line).attributes


@pytest.mark.parametrize(
    ("line", "occupation"),
    [
        ("我是老师", "teacher"),
        ("我是一名幼儿园老师", "teacher"),
        ("作为一名护士，经常上夜班", "nurse"),
        ("本人程序员，天天加班", "programmer"),
        ("我是做销售的", "sales"),
        ("我是全职妈妈", "homemaker"),
        ("我是开店的", "business_owner"),
        ("我自己开店，平时很忙", "business_owner"),
        ("我也是上班族", "office_worker"),
    ],
)
def test_occupation_needs_self_reference(an, line, occupation):
    assert an(line).attributes.get("occupation") == occupation


@pytest.mark.parametrize(
    "line", ["孩子的老师说明天交作业", "我老公是程序员", "你是老师吗", "我不是老师", "老师好"]
)
def test_no_occupation_about_others(an, line):
    assert "occupation" not in an(line).attributes


def test_kindergarten_teacher_is_not_a_parent(an):
    s = an("我是幼儿园老师")
    assert s.attributes == {"occupation": "teacher"}


def test_full_self_introduction(an):
    s = an("大家好，我是90后宝妈，坐标成都，平时喜欢旅行")
    assert s.attributes == {
        "city": "成都",
        "age_range": "25-34",
        "gender": "female",
        "life_stage": "parent",
    }
    assert s.interests == {"parenting": 1.0, "travel": 1.0}
    assert "praise" not in s.intents


# --------------------------------------------------------------------------------------------
# content types and empty input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("msg_type", ["system", "recall", "sticker", "red_packet", "transfer",
                                      "call"])  # fmt: skip
def test_silent_types_are_empty(analyzer, msg_type):
    s = analyzer.analyse("太贵了，我在杭州，想买", msg_type, TS)
    assert s == Signals()
    assert s.is_empty()


def test_image_and_video_are_content_only(analyzer):
    assert analyzer.analyse(None, "image", TS) == Signals(content="image")
    assert analyzer.analyse("[图片]", "image", TS) == Signals(content="image")
    assert analyzer.analyse("太贵了", "video", TS) == Signals(content="video")


def test_link_keeps_its_title_analysed(analyzer):
    s = analyzer.analyse("【好物推荐】这款面膜补水效果很好", "link", TS)
    assert s.content == "link"
    assert s.interests == {"beauty": 2.0}


def test_mini_program_text_is_analysed(analyzer):
    s = analyzer.analyse("拼多多：空气炸锅限时秒杀", "mini_program", TS)
    assert s.content == "mini_program"
    assert s.motivations == {"price": 1.0}
    assert s.interests == {"food": 1.0}


def test_url_only_text_is_link_content(an):
    assert an("https://m.tb.cn/h.abc?tk=1") == Signals(content="link")


def test_text_with_url_is_link_content(an):
    s = an("看看这个 https://m.tb.cn/h.abc?tk=1 正品吗")
    assert s.content == "link"
    assert s.intents == ["question"]
    assert "https" not in " ".join(s.keywords)


def test_quote_is_analysed_like_text(analyzer):
    assert analyzer.analyse("太贵了", "quote", TS).intents == ["complaint"]


@pytest.mark.parametrize("text", [None, "", "   ", "😂😂", "[捂脸][捂脸]", "@小王\u2005"])
def test_empty_text(an, text):
    assert an(text).is_empty()


def test_content_codes_are_from_the_contract(analyzer):
    for t in ("image", "video", "link", "mini_program"):
        assert analyzer.analyse("x", t, TS).content in CONTENT_CODES


# --------------------------------------------------------------------------------------------
# keywords
# --------------------------------------------------------------------------------------------


def test_keywords_are_content_words_in_order_deduplicated(an):
    s = an("哈哈，面膜面膜，这个面膜和精华哪个好？谢谢")
    assert s.keywords == ["面膜", "精华"]


def test_keywords_skip_numbers_fillers_and_verdicts(an):
    s = an("好的好的，想买3盒，不满意的话可以退吗")
    assert s.keywords == []


def test_keywords_are_capped_at_six(an):
    s = an("周末带娃去迪士尼，顺便逛商场买衣服、口红、面膜、耳机和零食")
    assert len(s.keywords) == 6
    assert s.keywords[:3] == ["周末", "带娃", "迪士尼"]


def test_signals_round_trip_through_json(an):
    s = an("我是90后宝妈，坐标成都，太贵了有没有优惠？")
    assert Signals.from_json(s.to_json()) == s


def test_signals_stored_before_the_confidence_still_read():
    old = Signals.from_json({"n": ["complaint"], "k": ["发货"]})
    assert old.intents == ["complaint"] and old.complaint is None
    assert "p" not in old.to_json()
    assert Signals.from_json({"p": 0.0}).complaint == 0.0


# --------------------------------------------------------------------------------------------
# lexicon
# --------------------------------------------------------------------------------------------


def _with(name: str, text: str) -> dict[str, str]:
    texts = default_texts()
    texts[name] = text
    return texts


def test_labels_cover_every_code_the_analyzer_can_emit():
    labels = default_lexicon().labels()
    assert labels["travel"] == "旅行"
    assert labels["parenting"] == "母婴育儿"
    assert labels["health"] == "健康养生"
    for code in (*INTENT_CODES, *MOTIVATION_CODES, *CONTENT_CODES):
        assert labels[code]
    for value in (
        "female",
        "male",
        "parent",
        "expecting",
        "student",
        "retired",
        "teacher",
        "programmer",
        "homemaker",
        "business_owner",
        "office_worker",
        "25-34",
    ):
        assert labels[value]  # fmt: skip


def test_user_words_carry_explicit_frequencies():
    words = dict(default_lexicon().user_words())
    assert words["宝妈"] == 3000  # from userdict.txt
    assert {"有没有", "没问题", "不错", "链接发我", "90后"} <= set(words)
    assert all(isinstance(f, int) and f > 0 for f in words.values())


def test_broken_toml_names_file_and_line():
    text = default_texts()["taxonomy.toml"]
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("[digital]"))
    lines[n] = "[digital"
    with pytest.raises(LexiconError) as exc:
        parse_lexicon(_with("taxonomy.toml", "\n".join(lines)))
    assert exc.value.file == "taxonomy.toml"
    assert exc.value.line == n + 1
    assert str(exc.value).startswith(f"taxonomy.toml:{n + 1}: ")


def test_new_interest_without_label_names_the_key_and_line():
    text = default_texts()["taxonomy.toml"] + '\n[tea]\nkeywords = ["茶具", "普洱茶"]\n'
    with pytest.raises(LexiconError) as exc:
        parse_lexicon(_with("taxonomy.toml", text))
    assert "[tea] label" in str(exc.value)
    assert exc.value.line == len(text.splitlines()) - 1  # the [tea] header


def test_keywords_must_be_a_list_of_strings():
    text = default_texts()["taxonomy.toml"].replace(
        '[travel]\nlabel = "旅行"\nkeywords = [', '[travel]\nlabel = "旅行"\nkeywords = [1, '
    )
    with pytest.raises(LexiconError) as exc:
        parse_lexicon(_with("taxonomy.toml", text))
    msg = str(exc.value)
    assert "[travel] keywords" in msg
    assert "必须是字符串列表" in msg
    assert exc.value.line == text.splitlines().index("keywords = [1, ") + 1


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ('\n[Tea-Time]\nlabel = "茶"\nkeywords = ["茶"]\n', "[Tea-Time]"),
        ('\n[price]\nlabel = "价格"\nkeywords = ["价"]\n', "[price]"),
        ('\n[tea]\nlabel = "茶"\nkeywords = ["茶"]\ncolour = "green"\n', "[tea] colour"),
        ('\n[tea]\nlabel = ""\nkeywords = ["茶"]\n', "[tea] label"),
    ],
)
def test_taxonomy_validation(extra, fragment):
    with pytest.raises(LexiconError, match=r"taxonomy\.toml:\d+: ") as exc:
        parse_lexicon(_with("taxonomy.toml", default_texts()["taxonomy.toml"] + extra))
    assert fragment in str(exc.value)


def test_cues_typo_is_reported_with_line():
    text = default_texts()["cues.toml"].replace("negators = [", "negator = [", 1)
    with pytest.raises(LexiconError) as exc:
        parse_lexicon(_with("cues.toml", text))
    assert "[negation] negator" in str(exc.value)
    assert exc.value.line == text.splitlines().index("negator = [") + 1


def test_userdict_bad_frequency_names_the_line():
    with pytest.raises(LexiconError, match=r"userdict\.txt:3: 宝妈: ") as exc:
        parse_lexicon(_with("userdict.txt", "# c\n团购 100\n宝妈 many n\n"))
    assert exc.value.line == 3


def test_city_alias_clash_names_the_line():
    with pytest.raises(LexiconError, match=r"cities\.txt:2: ") as exc:
        parse_lexicon(_with("cities.txt", "北京 帝都\n上海 帝都\n"))
    assert exc.value.key == "帝都"


def test_missing_file_text():
    texts = default_texts()
    del texts["stopwords.txt"]
    with pytest.raises(LexiconError, match=r"^stopwords\.txt: "):
        parse_lexicon(texts)
    assert set(default_texts()) == set(FILES)


def test_operator_can_add_an_interest():
    text = (
        default_texts()["taxonomy.toml"]
        + '\n[tea]\nlabel = "茶饮"\nkeywords = ["茶具", "普洱茶"]\n'
    )
    lexicon = parse_lexicon(_with("taxonomy.toml", text))
    assert lexicon.labels()["tea"] == "茶饮"
    a = Analyzer(lexicon, make_tokenizer("rjieba", lexicon.user_words()))
    assert a.analyse("新入手的茶具很好看，泡普洱茶刚好", "text", TS).interests == {"tea": 2.0}


# --------------------------------------------------------------------------------------------
# seen on the sample community: phrases a keyword matcher gets wrong
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["除螨仪好不好用？", "这个好不好用", "值不值得买啊"])
def test_a_not_a_verdict_question_is_no_complaint(an, line):
    sig = an(line)
    assert "question" in sig.intents and "complaint" not in sig.intents


def test_offer_to_answer_questions_is_no_complaint(an):
    assert "complaint" not in an("用了一个月，有问题的可以问我").intents


def test_posting_a_review_is_not_homework(an):
    sig = an("来交作业了，成分表看了一下，没有乱七八糟的添加")
    assert "education" not in sig.interests
    assert sig.motivations.get("quality")


def test_coupon_use_is_price_awareness(an):
    assert an("用券下来一盒才33.9").motivations.get("price")


@pytest.mark.parametrize(("text", "join"), [
    ('"小禾助手"邀请"王丽"加入了群聊', {"channel": "invite", "inviter": "小禾助手"}),
    ('"陈晨"通过扫描"小禾助手"分享的二维码加入群聊', {"channel": "qrcode", "inviter": "小禾助手"}),
    ("群公告：今晚8点直播", None),
])
def test_join_notices_become_join_signals(analyzer, text, join):
    assert analyzer.analyse(text, "system", TS).join == join


def test_analyse_many_gives_what_analyse_gives_one_by_one(analyzer):
    """The batch path (the complaint model primed for all texts at once) and one call per
    message store the same signals, whatever the batch holds and however small it is."""
    ts2 = TS.replace(year=2036)
    keys = [
        ("试机的一会功夫，就蛮热的，似乎散热不太好", "text", TS),
        ("太贵了，有没有优惠？", "text", TS),
        ("我是90后宝妈，坐标杭州", "text", TS),
        ("我是90后宝妈，坐标杭州", "text", ts2),
        ("作为老宾馆，感觉环境和服务都很到位了", "text", TS),
        ("不是很满意，客服一直不回复", "text", TS),
        ('"小禾助手"邀请"王丽"加入了群聊', "system", TS),
        (None, "sticker", TS),
        ("[图片]", "image", TS),
        ("看看这个 https://example.com/a", "text", TS),
        ("😀😀", "text", TS),
        ("", "text", TS),
        ("酒店位置不错，但是房间隔音太差，晚上根本睡不着", "text", TS),
        ("快递太慢了，等了一个星期才到，包装也破了", "text", TS),
        ("试机的一会功夫，就蛮热的，似乎散热不太好", "text", TS),
    ]
    one_by_one = [analyzer.analyse(*k).to_json() for k in keys]
    assert [s.to_json() for s in analyzer.analyse_many(keys)] == one_by_one
    assert [s.to_json() for s in analyzer.analyse_many(keys[:3])] == one_by_one[:3]
    assert analyzer.analyse_many([]) == []
    assert any("p" in s for s in one_by_one)
