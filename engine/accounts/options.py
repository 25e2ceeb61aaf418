"""The enumerations of the registration form, shared by pages and API."""

from types import MappingProxyType

Choices = MappingProxyType[str, str]

# GB/T 3304: the 56 nationalities with their two-digit codes.
ETHNICITIES: Choices = MappingProxyType(
    {
        f"{index:02d}": name
        for index, name in enumerate(
            (
                "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 "
                "瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 "
                "拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 "
                "布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 "
                "乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
                "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
            ).split(),
            start=1,
        )
    }
)

EDUCATIONS: Choices = MappingProxyType(
    {
        "doctorate": "博士研究生",
        "master": "硕士研究生",
        "bachelor": "大学本科",
        "college": "大学专科",
        "secondary": "中专",
        "high_school": "高中",
        "below": "初中及以下",
    }
)

# GB/T 4762 order.
POLITICAL_STATUSES: Choices = MappingProxyType(
    {
        f"{index:02d}": name
        for index, name in enumerate(
            (
                "中共党员 中共预备党员 共青团员 民革党员 民盟盟员 民建会员 民进会员 "
                "农工党党员 致公党党员 九三学社社员 台盟盟员 无党派人士 群众"
            ).split(),
            start=1,
        )
    }
)

TITLE_STATUSES: Choices = MappingProxyType({"obtained": "已取得", "not_obtained": "未取得"})

TITLE_LEVELS: Choices = MappingProxyType(
    {
        "senior": "正高级",
        "associate_senior": "副高级",
        "intermediate": "中级",
        "junior": "初级",
        "assistant": "员级",
        "none": "无",
    }
)

PROFESSIONAL_TITLES: Choices = MappingProxyType(
    {
        name: name
        for name in (
            "无 正高级工程师 高级工程师 工程师 助理工程师 技术员 高级经济师 经济师 "
            "助理经济师 正高级会计师 高级会计师 会计师 助理会计师 审计师 高级审计师 "
            "教授 副教授 讲师 助教 研究员 副研究员 助理研究员 主任医师 副主任医师 "
            "主治医师 医师 主任护师 副主任护师 主管护师 护师 一级律师 二级律师 "
            "三级律师 四级律师 高级人力资源管理师 人力资源管理师 群众文化研究馆员 "
            "群众文化副研究馆员 群众文化馆员 助理馆员 其他"
        ).split()
    }
)

ID_TYPES: Choices = MappingProxyType(
    {
        "id_card": "身份证",
        "passport": "护照",
        "hk_macau_permit": "港澳居民来往内地通行证",
        "taiwan_permit": "台湾居民来往大陆通行证",
    }
)

GENDERS: Choices = MappingProxyType({"male": "男", "female": "女"})

# Field name → its choices, in the order the form shows them.
FORM_OPTIONS: MappingProxyType[str, Choices] = MappingProxyType(
    {
        "id_type": ID_TYPES,
        "gender": GENDERS,
        "ethnicity": ETHNICITIES,
        "title_status": TITLE_STATUSES,
        "title_level": TITLE_LEVELS,
        "professional_title": PROFESSIONAL_TITLES,
        "education": EDUCATIONS,
        "political_status": POLITICAL_STATUSES,
    }
)


def options_payload() -> dict[str, list[dict[str, str]]]:
    """The enumerations as PROTOCOL.md's `{"<field>": [{"value","label"}]}`."""
    return {
        field: [{"value": value, "label": label} for value, label in choices.items()]
        for field, choices in FORM_OPTIONS.items()
    }
