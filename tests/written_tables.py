"""Known phrases for the written form: (heard, written) for ITN, (heard, script, written) for
OpenCC. Shared by tests/unit/test_written.py and bench/written.py (which scores the candidate
libraries on them)."""

from __future__ import annotations

ITN = (
    # numbers with units, counts
    ("二百五十六页", "256页"),
    ("五十六个民族", "56个民族"),
    ("三十岁", "30岁"),
    ("四十五度", "45度"),
    ("三千块", "3000块"),
    ("一百二十块五毛", "120块5毛"),
    ("五块钱", "5块钱"),
    ("他考了九十八分", "他考了98分"),
    ("一千零一夜", "1001夜"),
    ("十二亿", "12亿"),
    ("五百万人", "500万人"),
    ("两千三百万", "2300万"),
    ("十万", "10万"),
    ("三倍", "3倍"),
    ("二十一世纪", "21世纪"),
    ("九十年代", "90年代"),
    ("第三章", "第3章"),
    ("第一名", "第1名"),
    ("第十二节", "第12节"),
    ("十八楼", "18楼"),
    # times
    ("三点", "3点"),
    ("早上八点", "早上8点"),
    ("八点半", "8点半"),
    ("下午三点十五分", "下午3点15分"),
    ("两点十分", "2点10分"),
    ("我们三点见", "我们3点见"),
    ("十二点", "12点"),
    ("三十秒", "30秒"),
    # dates
    ("二零二四年三月五日", "2024年3月5日"),
    ("一九九八年", "1998年"),
    ("三月五号", "3月5号"),
    ("十一月", "11月"),
    ("六月一日", "6月1日"),
    ("十二月三十一日", "12月31日"),
    # percentages, fractions, decimals, signs
    ("百分之五", "5%"),
    ("百分之九十九", "99%"),
    ("百分之五十", "50%"),
    ("三分之一", "1/3"),
    ("十二点五", "12.5"),
    ("三点一四", "3.14"),
    ("零点五", "0.5"),
    ("负五度", "-5度"),
    ("零下五度", "零下5度"),
    # digit-by-digit runs
    ("幺三八零零一三八零零零", "13800138000"),
    ("电话是一三八一二三四五六七八", "电话是13812345678"),
    ("房间号是三零五", "房间号是305"),
    # numerals that are words stay as they are
    ("一起去", "一起去"),
    ("统一", "统一"),
    ("一些人", "一些人"),
    ("一个人", "一个人"),
    ("两个人", "两个人"),
    ("我有三个苹果", "我有三个苹果"),
    ("打一个电话", "打一个电话"),
    ("一会儿", "一会儿"),
    ("万一", "万一"),
    ("星期一", "星期一"),
    ("一模一样", "一模一样"),
    ("三心二意", "三心二意"),
    ("不管三七二十一", "不管三七二十一"),
    ("原因之一", "原因之一"),
    ("十几个", "十几个"),
    ("几十个", "几十个"),
    ("三四个", "三四个"),
    ("千万", "千万"),
    ("今天天气很好", "今天天气很好"),
)

SCRIPT = (
    # one Simplified character, several Traditional ones: the phrase decides
    ("头发", "traditional", "頭髮"),
    ("发展", "traditional", "發展"),
    ("干净", "traditional", "乾淨"),
    ("干部", "traditional", "幹部"),
    ("他干了这杯酒", "traditional", "他乾了這杯酒"),
    ("后来", "traditional", "後來"),
    ("皇后", "traditional", "皇后"),
    ("面条", "traditional", "麪條"),
    ("一只猫", "traditional", "一隻貓"),
    ("了解", "traditional", "瞭解"),
    ("几乎", "traditional", "幾乎"),
    ("钟表", "traditional", "鐘錶"),
    ("一出戏", "traditional", "一齣戲"),
    ("制造业", "traditional", "製造業"),
    ("周末", "traditional", "週末"),
    ("于是", "traditional", "於是"),
    ("范围", "traditional", "範圍"),
    ("松树", "traditional", "松樹"),
    ("丑陋", "traditional", "醜陋"),
    ("斗争", "traditional", "鬥爭"),
    ("今天天气很好", "traditional", "今天天氣很好"),
    ("我们去学校", "traditional", "我們去學校"),
    ("谢谢你的帮助", "traditional", "謝謝你的幫助"),
    ("这里的山很美", "traditional", "這裏的山很美"),
    ("台湾", "traditional", "臺灣"),
    # Taiwan: its characters and its words
    ("软件", "tw", "軟體"),
    ("鼠标", "tw", "滑鼠"),
    ("出租车", "tw", "計程車"),
    ("U盘", "tw", "隨身碟"),
    ("自行车", "tw", "腳踏車"),
    ("信息", "tw", "資訊"),
    ("网络", "tw", "網路"),
    ("内存", "tw", "記憶體"),
    ("打印机", "tw", "印表機"),
    ("服务器", "tw", "伺服器"),
    ("视频", "tw", "影片"),
    ("博客", "tw", "部落格"),
    ("短信", "tw", "簡訊"),
    ("数据库", "tw", "資料庫"),
    ("默认", "tw", "預設"),
    ("激光", "tw", "雷射"),
    ("硬盘", "tw", "硬碟"),
    ("菜单", "tw", "選單"),
    ("文件夹", "tw", "資料夾"),
    ("人工智能", "tw", "人工智慧"),
    ("这里的山很美", "tw", "這裡的山很美"),
    ("面条", "tw", "麵條"),
    ("我用鼠标打开软件", "tw", "我用滑鼠開啟軟體"),
    ("头发很长", "tw", "頭髮很長"),
    ("今天天气很好", "tw", "今天天氣很好"),
    # Hong Kong
    ("台湾", "hk", "台灣"),
    ("这里", "hk", "這裏"),
    ("面条", "hk", "麪條"),
    ("软件", "hk", "軟件"),
    ("头发", "hk", "頭髮"),
    ("发展", "hk", "發展"),
    ("我们去学校", "hk", "我們去學校"),
    ("干净", "hk", "乾淨"),
    ("后来", "hk", "後來"),
    ("打印机", "hk", "打印機"),
    # Simplified: as heard
    ("软件", "simplified", "软件"),
    ("头发", "simplified", "头发"),
)


def trimmed(clip, rate: int = 16_000):
    """A Kokoro clip without the silence it leaves at its start (0.24 s) and end (0.55 s):
    from its first to its last 20 ms frame within 30 dB of the loud ones."""
    import numpy as np

    frame = rate // 50
    n = len(clip) // frame
    rms = np.sqrt(np.mean(np.square(clip[: n * frame].reshape(n, frame)), axis=1))
    loud = np.flatnonzero(rms >= np.percentile(rms, 90) * 10 ** (-30 / 20))
    return clip[loud[0] * frame : (loud[-1] + 1) * frame]


#: The pauses between four phrases in :func:`paused_speech`, and the marks they should give:
#: a comma at 0.4 s, nothing where the phrases run on, a full stop at 1.2 s and at the end.
PAUSES = (0.4, 0.0, 1.2)
MARKS = ["，", "。", "。"]


def paused_speech(clips, rate: int = 16_000):
    """Four clips, trimmed, with :data:`PAUSES` between them and 0.3 s of silence around;
    returns the audio and the pauses as (start, end) seconds."""
    import numpy as np

    parts, junctions, t = [np.zeros(int(0.3 * rate), np.float32)], [], 0.3
    for i, clip in enumerate(trimmed(c, rate) for c in clips):
        parts.append(clip)
        t += len(clip) / rate
        if i < len(PAUSES):
            parts.append(np.zeros(round(PAUSES[i] * rate), np.float32))
            junctions.append((t, t + PAUSES[i]))
            t += PAUSES[i]
    parts.append(np.zeros(int(0.3 * rate), np.float32))
    return np.concatenate(parts), junctions
