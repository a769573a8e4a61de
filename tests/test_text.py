"""Normalisation and tokenisation: what every signal is computed from.

Real jieba and rjieba only. The cross-engine tests are the point: a member's persona must not
change because the deployment happens to have (or lack) the rjieba wheel.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from persona.analyze import Analyzer
from persona.resources import default_lexicon
from persona.text import Normalised, make_tokenizer, normalise

TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def lexicon():
    return default_lexicon()


@pytest.fixture(scope="module")
def jieba_tk(lexicon):
    return make_tokenizer("jieba", lexicon.user_words())


@pytest.fixture(scope="module")
def rjieba_tk(lexicon):
    return make_tokenizer("rjieba", lexicon.user_words())


# --------------------------------------------------------------------------------------------
# normalise
# --------------------------------------------------------------------------------------------


def test_full_width_ascii_digits_and_punctuation_become_half_width():
    n = normalise("ｉＰｈｏｎｅ１５　多少钱？ＯＫ！")
    assert n.text == "iPhone15 多少钱?OK!"


def test_question_marks_are_one_form_and_chinese_full_stop_stays():
    assert normalise("好用吗？").text == normalise("好用吗?").text == "好用吗?"
    assert normalise("收到了。谢谢，").text == "收到了。谢谢,"


def test_emoji_are_removed_and_counted_as_sequences():
    n = normalise("太好看了😍😍👍🏻")
    assert n.text == "太好看了"
    assert n.emoji == 3  # a thumbs-up with a skin tone is one emoji
    family = normalise("周末👨\u200d👩\u200d👧出游🇨🇳")
    assert family.text == "周末 出游"
    assert family.emoji == 2  # a ZWJ family and a flag are one emoji each


def test_wechat_expression_codes_are_removed_and_counted():
    n = normalise("哈哈[捂脸][微笑]笑死我了[Smile]")
    assert n.text == "哈哈 笑死我了"
    assert n.emoji == 3


def test_full_width_brackets_of_expression_codes():
    assert normalise("好的［强］").emoji == 1


def test_export_placeholders_are_removed_but_not_counted_as_emoji():
    n = normalise("[图片] 看这个")
    assert n.text == "看这个"
    assert n.emoji == 0


def test_urls_are_extracted_and_do_not_swallow_chinese_text():
    n = normalise("看看这个https://item.taobao.com/item.htm?id=123，正品吗")
    assert n.urls == ("https://item.taobao.com/item.htm?id=123",)
    assert n.text == "看看这个 ,正品吗"


def test_url_trailing_punctuation_is_given_back():
    n = normalise("链接 www.example.com/a. 点开")
    assert n.urls == ("www.example.com/a",)
    assert "example" not in n.text


def test_mentions_with_wechat_four_per_em_space():
    n = normalise("@小王\u2005@Amy Wang\u2005你们看下这个")
    assert n.mentions == ("小王", "Amy Wang")
    assert n.text == "你们看下这个"


def test_mentions_with_ordinary_space_and_email_is_not_a_mention():
    n = normalise("@所有人 今晚八点开团，邮箱 abc@qq.com")
    assert n.mentions == ("所有人",)
    assert "今晚八点开团" in n.text
    assert "abc@qq.com" in n.text


@pytest.mark.parametrize("text", ["", "   ", "\u3000\n\t", "\u200b"])
def test_empty_and_whitespace(text):
    assert normalise(text) == Normalised("", (), (), 0)


def test_whitespace_is_collapsed():
    assert normalise("  太贵了 \n\n  不买了\t ").text == "太贵了 不买了"


def test_emoji_only_message_is_empty_text():
    n = normalise("😂😂[捂脸]")
    assert n.text == ""
    assert n.emoji == 3


# --------------------------------------------------------------------------------------------
# make_tokenizer
# --------------------------------------------------------------------------------------------


def test_auto_prefers_rjieba_when_installed():
    assert make_tokenizer("auto").name == "rjieba"
    assert make_tokenizer("jieba").name == "jieba"
    assert make_tokenizer("rjieba").name == "rjieba"


def test_auto_falls_back_to_jieba_and_rjieba_request_fails_without_the_wheel(monkeypatch):
    monkeypatch.setitem(sys.modules, "rjieba", None)  # makes `import rjieba` raise ImportError
    assert make_tokenizer("auto").name == "jieba"
    with pytest.raises(ValueError, match="rjieba") as exc:
        make_tokenizer("rjieba")
    assert "未安装" in str(exc.value)


def test_unknown_engine_is_a_bilingual_value_error():
    with pytest.raises(ValueError) as exc:
        make_tokenizer("pkuseg")
    assert "未知的分词引擎" in str(exc.value)
    assert "unknown tokenizer engine" in str(exc.value)


def test_tokenizers_are_cached_per_engine_and_words(lexicon):
    words = lexicon.user_words()
    assert make_tokenizer("jieba", words) is make_tokenizer("jieba", iter(list(words)))
    assert make_tokenizer("jieba", words) is not make_tokenizer("jieba")


def test_jieba_uses_its_own_instance_not_the_global(jieba_tk):
    import jieba

    assert jieba_tk.cut("链接发我") == ["链接发我"]
    assert jieba.lcut("链接发我") != ["链接发我"]


def test_explicit_frequencies_make_words_units():
    plain = make_tokenizer("rjieba")
    assert plain.cut("没收到") != ["没收到"]
    for engine in ("jieba", "rjieba"):
        tk = make_tokenizer(engine, [("没收到", 3000), ("链接发我", 3000)])
        assert tk.cut("没收到") == ["没收到"]
        assert tk.cut("链接发我一下") == ["链接发我", "一下"]


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_every_lexicon_word_is_one_token(lexicon, engine):
    tk = make_tokenizer(engine, lexicon.user_words())
    split = [w for w, _ in lexicon.user_words() if tk.cut(w) != [w]]
    assert split == []


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_key_cues_segment_as_units(lexicon, engine):
    tk = make_tokenizer(engine, lexicon.user_words())
    assert tk.cut("有没有优惠") == ["有没有", "优惠"]
    assert tk.cut("没问题") == ["没问题"]
    assert tk.cut("不错") == ["不错"]
    assert tk.cut("不贵") == ["不", "贵"]
    assert tk.cut("贵州") == ["贵州"]
    assert tk.cut("90后宝妈") == ["90后", "宝妈"]


def test_places_come_from_jieba_dictionary(rjieba_tk, jieba_tk):
    assert "义乌市" in rjieba_tk.places
    assert rjieba_tk.places == jieba_tk.places


# --------------------------------------------------------------------------------------------
# jieba and rjieba agree
# --------------------------------------------------------------------------------------------

SENTENCES = [
    "姐妹们，这款面膜补水效果怎么样？",
    "@小王\u2005你上次说的那个防晒霜在哪买的",
    "宝宝湿疹反复，有没有好用的面霜推荐？",
    "周末带娃去迪士尼，求攻略！",
    "我是上海的，坐标浦东，上海哪里有好吃的火锅？",
    "这个空气炸锅太好用了，强烈推荐[强][强]",
    "快递三天了还没发货，什么情况？",
    "已下单，坐等收货😄",
    "团购价多少？我要两份",
    "这次拼单满减能叠加优惠券吗",
    "家里猫咪最近不爱吃猫粮，怎么办",
    "我家狗狗绝育后胖了好多",
    "最近在追一部韩剧，剧情超好看",
    "周末去健身房撸铁，练腹肌",
    "今天跑了10公里，配速5分半",
    "iPhone15 Pro 多少钱？",
    "新买的华为手机拍照像素很高",
    "孩子英语成绩不好，想报个网课",
    "考研党一枚，每天刷题到半夜",
    "基金又跌了，定投还要继续吗",
    "想换新能源车，比亚迪和特斯拉哪个好？",
    "周末自驾游去千岛湖，酒店订好了",
    "睡眠不好，有没有调理的好方法",
    "最近失眠严重，泡脚有用吗",
    "这件连衣裙显瘦吗？尺码偏大还是偏小",
    "新房装修，沙发和窗帘还没买",
    "王者荣耀开黑来不来",
    "Switch上的塞尔达好玩吗？",
    "读完这本书很有感触，推荐给大家",
    "每天睡前给孩子读绘本",
    "质量真的很差，用了两天就坏了",
    "客服态度太差了，我要投诉",
    "退款什么时候到账？",
    "包装破损了，里面的东西都碎了",
    "东西收到了，很满意，下次还来",
    "物美价廉，已经回购好几次了",
    "不推荐，味道很奇怪",
    "价格有点贵，但是品质不错",
    "正品吗？有没有假货",
    "发顺丰吗？包邮吗？",
    "这个价格还可以，不算贵",
    "谢谢群主[玫瑰]",
    "好的好的，收到",
    "哈哈哈哈哈",
    "链接发我一下，我想买两盒",
    "我在深圳上班，周末回东莞",
    "作为一名护士，经常上夜班",
    "我是全职妈妈，二胎宝妈",
    "85后宝爸，孩子三岁了",
    "本人00后大学生，想找兼职",
    "我今年三十五了，想学理财",
    "我妈退休了，天天跳广场舞",
    "孙子上幼儿园了，接送好累",
    "备孕中，叶酸吃哪个牌子好？",
    "孕晚期脚肿怎么办",
    "期末论文写不完了😭",
    "老板，这个还有货吗？",
    "这家店的东西一般般，不怎么样",
    "不是不好用，就是有点贵",
    "会不会过敏啊？敏感肌能用吗",
    "我不是宝妈，是帮朋友问的",
    "她在北京工作，我在天津",
    "我们这边下雪了，你们那边呢",
    "https://item.taobao.com/item.htm?id=123 这个链接里的是正品吗",
    "【淘宝】https://m.tb.cn/h.abc123?tk=xyz 点击链接直接打开",
    "明天几点开团？我定个闹钟",
    "没收到货，客服也不回复",
    "能便宜点吗？买三件",
    "这款口红色号太适合黄皮了，爱了爱了",
    "贵州茅台多少钱一瓶",
    "我老婆怀孕了，想买点孕妇能吃的零食",
    "ＰＳ５的黑神话太好玩了！！",
    "坐标义乌市，做电商的，欢迎交流",
    "会不会很贵？不贵的话我拼一单",
]


def test_there_are_enough_sentences():
    assert len(SENTENCES) >= 60


@pytest.mark.parametrize("sentence", SENTENCES)
def test_engines_cut_identically(sentence, jieba_tk, rjieba_tk):
    text = normalise(sentence).text
    assert jieba_tk.cut(text) == rjieba_tk.cut(text)


def test_engines_give_identical_signals(lexicon, jieba_tk, rjieba_tk):
    a = Analyzer(lexicon, jieba_tk)
    b = Analyzer(lexicon, rjieba_tk)
    for sentence in SENTENCES:
        sa = a.analyse(sentence, "text", TS)
        sb = b.analyse(sentence, "text", TS)
        assert sa == sb, sentence
    # and the sentences do exercise the analyzer, so equality is not vacuous
    assert sum(not a.analyse(s, "text", TS).is_empty() for s in SENTENCES) >= 55
