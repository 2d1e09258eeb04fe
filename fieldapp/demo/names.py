"""Word lists and the fixed staff roster behind the demo data.

Street names are real Nanjing roads so the addresses read naturally to local staff; house
numbers, compounds (小区) and people are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class District:
    name: str
    lat: float  # rough centre of the built-up area, not the administrative centroid
    lon: float
    streets: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("玄武区", 32.060, 118.810,
             ("中山路", "北京东路", "珠江路", "龙蟠路", "太平北路", "后宰门街", "黄埔路", "丹凤街")),
    District("秦淮区", 32.020, 118.800,
             ("龙蟠中路", "中华路", "太平南路", "长乐路", "瑞金路", "白下路", "升州路", "御道街")),
    District("建邺区", 32.000, 118.725,
             ("江东中路", "庐山路", "应天大街", "河西大街", "嘉陵江东街", "乐山路", "集庆门大街",
              "兴隆大街")),
    District("鼓楼区", 32.070, 118.765,
             ("中山北路", "湖南路", "广州路", "汉中路", "江东北路", "草场门大街", "虎踞路", "宁海路")),
    District("栖霞区", 32.110, 118.900,
             ("仙林大道", "马群街", "迈皋桥路", "尧化门街", "和燕路", "文苑路", "学海路", "燕子矶路")),
    District("雨花台区", 31.985, 118.770,
             ("雨花南路", "软件大道", "宁南大道", "花神大道", "铁心桥街", "安德门大街", "凤集大道",
              "西善桥街")),
)

DISTRICT_NAMES: tuple[str, ...] = tuple(d.name for d in DISTRICTS)

COMPOUND_PREFIXES = (
    "金陵", "翠屏", "银城", "紫荆", "梅园", "莫愁", "青溪", "钟山", "石城", "凤凰", "清凉", "明城",
    "玄湖", "江岸", "桃园", "月牙", "御景", "春江", "东方", "锦绣", "秀水", "朝天", "南湖", "龙江",
)
COMPOUND_SUFFIXES = ("小区", "花园", "新村", "苑", "家园", "名邸", "佳园", "公寓", "雅居", "新寓")

# Roughly in order of frequency, so weighting by position gives a believable mix.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严武戴莫孔向汤葛殷倪"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞斌宇浩凯健俊帆帅旭宁龙林波建国峰亮成志文海东"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英燕萍红梅琳雪慧婷颖玉兰琴倩洁佳欣悦怡晶莉蓉月"

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "198", "199",
)

BUSINESS_STEMS = (
    "金陵", "秦淮人家", "鸿福", "老门东", "鼓楼", "聚贤", "百味", "福满楼", "江南", "小桃园",
    "南京大排档", "状元", "六朝", "石头城", "雨花", "玄武湖", "友谊", "新街口", "仙林", "河西",
)
BUSINESS_KINDS = (
    "面馆", "餐饮有限公司", "小吃店", "酒楼", "烧烤店", "茶餐厅", "烘焙坊", "食堂", "火锅店",
    "洗衣店", "浴室", "快餐店", "鸭血粉丝汤馆", "盐水鸭店",
)

RESIDENTIAL_TAGS = (("独居老人", 0.06), ("高风险", 0.03), ("行动不便", 0.02), ("空置房", 0.03),
                    ("租户", 0.05), ("老旧小区", 0.08))
COMMERCIAL_TAGS = (("餐饮", 0.6), ("高风险", 0.1), ("重点用户", 0.15), ("地下空间", 0.05))

RESIDENTIAL_MODELS = ("G2.5 膜式表", "G4 IC卡表", "G2.5 物联网表", "G4 物联网表", "G2.5 IC卡表")
COMMERCIAL_MODELS = ("G6 物联网表", "G10 IC卡表", "G16 膜式表", "G25 罗茨流量计")
RESIDENTIAL_LOCATIONS = ("厨房", "厨房吊柜内", "阳台", "走廊表箱", "楼道管道井", "厨房窗边")
COMMERCIAL_LOCATIONS = ("后厨", "室外表箱", "设备间", "后门表箱")

PAYMENT_METHODS = (("微信", 40), ("支付宝", 30), ("银行代扣", 20), ("营业厅现金", 10))

SKILLS = ("inspection", "repair", "meter_reading", "installation")

DEMO_PASSWORD = "fieldapp"

# Fixed rather than seeded: logins and the tablet walkthrough stay the same for every seed.
# Each district has an inspector and a repairer; installation and meter reading are shared
# across districts, as in a real team.
TECHNICIANS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("tech01", "王建国", "秦淮区", ("inspection", "repair", "meter_reading")),
    ("tech02", "李明", "玄武区", ("inspection", "repair")),
    ("tech03", "张伟", "建邺区", ("repair", "installation", "inspection")),
    ("tech04", "刘洋", "鼓楼区", ("inspection", "meter_reading", "repair")),
    ("tech05", "陈刚", "栖霞区", ("inspection", "repair")),
    ("tech06", "杨磊", "雨花台区", ("inspection", "repair", "meter_reading")),
    ("tech07", "赵军", "秦淮区", ("repair", "installation")),
    ("tech08", "周海燕", "玄武区", ("meter_reading", "inspection")),
    ("tech09", "吴志强", "鼓楼区", ("inspection", "repair")),
    ("tech10", "孙丽", "栖霞区", ("installation", "repair", "inspection")),
)

OFFICE_STAFF: tuple[tuple[str, str, str], ...] = (
    ("dispatcher", "徐静", "dispatcher"),
    ("supervisor", "马国栋", "supervisor"),
    ("admin", "系统管理员", "admin"),
)


def users() -> list[dict[str, Any]]:
    """The demo logins; every password is :data:`DEMO_PASSWORD`."""
    out: list[dict[str, Any]] = [
        {"username": u, "display_name": n, "role": "technician", "password": DEMO_PASSWORD,
         "district": d, "skills": list(s)}
        for u, n, d, s in TECHNICIANS
    ]
    out += [
        {"username": u, "display_name": n, "role": r, "password": DEMO_PASSWORD,
         "district": None, "skills": []}
        for u, n, r in OFFICE_STAFF
    ]
    return out
