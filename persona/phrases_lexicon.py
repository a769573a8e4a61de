"""The general shopping vocabulary phrase extraction reads (persona/phrases.py).

Aspect–opinion phrases ("物流慢", "客服不回复", "电池鼓包") have to come out of any shop's
chat, not just the sample community's, so these lists hold the words shoppers use about any
goods: the parts and services a complaint is about (aspects), what they say is wrong with
them (opinions), the symptoms that are a complaint on their own ("漏尿", "过敏"), and what a
negation turns into one ("不回复", "没发货", "不新鲜"). Each carries a category, so a script
can answer a delivery complaint as one. Product names are deliberately absent: a product is
whatever noun the message is about, found by part of speech.
"""

from __future__ import annotations

CATEGORIES = ("quality", "delivery", "service", "price", "other")
CATEGORY_LABELS = {"quality": "品质", "delivery": "物流", "service": "服务", "price": "价格",
                   "other": "其他"}


def _list(text: str) -> list[str]:
    """Word lists are written as one spaced string: easier to read and edit than quotes."""
    return text.split()


def _words(category: str, text: str) -> dict[str, str]:
    return dict.fromkeys(_list(text), category)


# What a complaint or a question is about, other than the product itself.
ASPECTS: dict[str, str] = {
    **_words("delivery", "物流 快递 发货 配送 送货 到货 派送 快递员 骑手 送餐 包裹 单号 "
                         "物流信息 运输 仓库 揽收"),
    **_words("service", "客服 售后 服务 态度 服务员 前台 商家 店家 卖家 掌柜 店主 退款 退货 "
                        "换货 退换 回复 保修 发票 群主 管理员"),
    **_words("price", "价格 价钱 运费 邮费 差价 性价比 价位 优惠 折扣 券 优惠券 活动价 "
                      "到手价 价保"),
    **_words("quality", "质量 品质 做工 用料 材质 面料 包装 味道 口感 气味 电池 屏幕 键盘 "
                        "散热 系统 续航 音质 信号 充电 充电器 尺码 颜色 分量 房间 卫生 隔音 "
                        "床 床单 被子 早餐 设施 空调 热水 网速 噪音 效果 保质期 成分 手感 "
                        "印刷 纸张 纸质 外观 做法 口味 温度 新鲜度 甜度 个头 大小 码数 尺寸 "
                        "鞋码 版型 线头 拉链 扣子 外壳 镜头 像素 电量 内存 硬盘 风扇 "
                        "卫生间 浴室 马桶 窗户 环境 位置 设备 配件 说明书 瓶子 瓶盖 盖子 "
                        "包装盒 封口 奶嘴 吸管 质感 香味 泡沫 头皮 皮肤 大码 小码 加大码 无糖 "
                        "低糖 低脂 款式 型号 规格 配置"),
}

# Opinions that say something is wrong (the core, with "太", "很" … stripped off).
OPINIONS: dict[str, str | None] = {
    **_words("quality", "差 烂 坏 破 破损 漏 漏液 漏水 漏气 碎 裂 断 脏 臭 腥 硬 难吃 难闻 "
                        "难用 难看 刺鼻 粗糙 劣质 假 卡 卡顿 死机 发烫 发热 烫 变质 发霉 过期 "
                        "变形 褪色 掉色 起球 缩水 开线 开胶 异响 失灵 凉 小 少 薄 旧 吵 潮 "
                        "闷 暗 模糊 坑 糟糕 垃圾 差劲 鼓包 掉漆 生锈 扎 痒 咸 苦 淡 酸 "
                        "涩 油腻 干 稀 不准 翻车 踩雷 简陋 压坏 磕坏 摔坏 碰坏 压扁 坏掉 "
                        "变味 串味 一般"),
    **_words("delivery", "慢 延迟 延误 丢件 丢 错发 漏发 少发 发错 超时 迟 晚 拖"),
    **_words("service", "冷淡 敷衍 推诿 不耐烦 恶劣 凶 推脱 踢皮球"),
    **_words("price", "贵 涨价 降价 不值 坑钱 溢价 虚高"),
}
# Symptoms that are a complaint with no aspect named, and read best alone ("漏尿", not
# "纸尿裤漏尿"): the product is kept beside the phrase, not in it.
SYMPTOMS: dict[str, str] = _words(
    "quality", "漏尿 侧漏 后漏 红屁股 过敏 拉肚子 腹泻 红疹 起疹子 湿疹 长痘 闷痘 爆痘 头皮痒 "
               "脱发 掉发 异味 霉点 虫子 坏点 划痕 色差 瑕疵 异物 结块 胀气 便秘 上火 蓝屏 "
               "黑屏 断连 漏电 烂果 坏果 发黑 霉斑 污渍 破洞 掉毛 起皮 刺痛 红肿 烂脸 "
               "自动重启 闪退 卡死 花屏 自动关机 怪味 胀袋 夹生 跑毛 起毛")
# What a negation turns into a complaint ("不回复", "没发货", "不新鲜"); None: the category is
# the aspect's ("不好").
NEGATABLE: dict[str, str | None] = {
    **_words("service", "回复 回 理 理人 处理 解决 管 负责 退 退款 换 联系 接 回消息 专业 "
                        "耐心 热情 给退 给换 认 承认 赔"),
    **_words("delivery", "发货 发 到 送到 收到 送达 到货 配送 准时 及时 快 更新 动 送"),
    **_words("price", "值 划算 便宜 实惠 优惠"),
    **_words("quality", "新鲜 好吃 好用 耐用 清楚 舒服 灵敏 干净 正宗 甜 热 合身 清晰 流畅 "
                        "结实 牢固 能用 好闻 保温 亮 灵 准 管用 顶用 匹配 熟"),
    **dict.fromkeys(("好", "行", "满意", "对", "达标", "正常"), None),
}
# Negated only by the 没 family: "不到" is "less than" or "cannot" (想不到, 做不到), "不管" is
# "regardless", but "没到", "还没收到", "没人管" are complaints.
ONLY_MEI = frozenset({"到", "收到", "管", "送到", "到货"})
NEGATIONS = ("还没有", "还没", "没有", "没", "不", "未", "别", "无法", "没法", "不能")
# Degree words in front of an opinion ("太慢", "很差"): stripped for grouping.
DEGREES = ("非常", "特别", "有点儿", "有点", "有些", "太", "很", "超", "好", "巨", "贼", "真",
           "挺", "蛮", "比较", "越来越", "更", "也太", "够", "怎么", "大", "还", "偏")
# Opinions that are a complaint only about a thing named before them: "效果一般", "散热一般"
# are, "一般几天能到" (usually) is not.
NEEDS_THING = frozenset({"一般"})
# Tokens that may sit between an aspect, a negation and an opinion without breaking them.
FILLERS = frozenset(_list(
    "一直 还 都 也 就 再 总 总是 老是 根本 完全 从来 又 居然 竟然 真的 实在 简直 已经 好像 "
    "感觉 有点 有点儿 有些 太 很 超 特别 非常 比较 了 啦 呀 啊 的 得 地 着 过 是 都是 全 "
    "一点 一点儿 一些 好几天 几天 一半 这次 这回 这个 那个 这 那 也是 又是"))

# People a chat is about: no product, but a topic ("宝宝" names a circle of parents).
PEOPLE = frozenset(_list("宝宝 孩子 娃 小孩 宝妈 宝爸 老公 老婆 老人 妈妈 爸爸 家人 儿童 学生 "
                         "孕妇 新生儿 婴儿 女儿 儿子"))
# Nouns that are people, times or chat fillers, never a product or an aspect.
NOT_PRODUCTS = frozenset(_list(
    "宝宝 孩子 娃 小孩 宝妈 宝爸 老公 老婆 家里 大家 姐妹 亲们 群里 同问 朋友 老人 "
    "最近 今天 昨天 明天 现在 上次 这次 下次 时候 一下 东西 事情 问题 感觉 情况 真实 "
    "其他 这款 那款 这个 那个 图片 照片 评价 反馈 作业 小时 分钟 星期 礼拜 天 月 年 "
    "人 自己 我们 你们 他们 大神 亲 姐 哥 妈妈 爸爸 老师 同事 家人 客人 小伙伴 号 点 "
    "订单 链接 详情页 详情 页面 描述 宣传 实物 样子 体验 心情 心态 时间 周 次 "
    "活动 小禾 群 群主 膝盖 腰 腿 眼睛 身体 肚子 头 胃 嗓子 牙 脸 手 脚 楼梯 疫苗"))

# Words that turn a question or wish into a need, with the category they usually carry.
NEED_CATEGORIES: dict[str, tuple[str, ...]] = {
    "price": ("便宜", "优惠", "折扣", "多少钱", "价格", "什么价", "啥价", "券", "满减", "活动",
              "拼单", "团购", "划算", "包邮", "降价", "特价", "秒杀", "赠品", "打折", "几折"),
    "delivery": ("发货", "快递", "物流", "到货", "几天到", "多久到", "配送", "送货", "补货",
                 "有货", "现货", "到了吗", "能到", "催"),
    "service": ("售后", "退", "换货", "退换", "客服", "保修", "发票", "联系"),
    "quality": ("成分", "检测", "质检", "报告", "正品", "材质", "保质期", "产地", "适合", "适用",
                "能用", "能吃", "安全", "过敏", "副作用", "尺码", "大码", "小码", "效果",
                "怎么用", "怎么吃", "用法", "月龄", "无糖", "低糖", "含糖", "配料", "口味"),
}
