"""A synthetic national station table for scale tests and benchmarks.

Real station lists are small and scattered over many offices; to measure a 150,000-row build,
the nearest-station index or a national map we need a table that looks like the real thing:
stations clustered around real prefecture-level city centres (more in bigger cities), names and
addresses in the form union offices use, mostly 24-hour, with the amenity mix reported for
工会驿站.  Everything is drawn with numpy from one seeded generator, so a seed always gives the
same table and 150,000 rows take well under a second.

The table has the schema's English field names (:data:`stations.model.TEXT_FIELDS`), ``lon`` and
``lat`` in WGS84, and ``amenities`` as ``;``-joined codes, so ``stations build`` reads it as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .index import EARTH_RADIUS_M, unit_vectors
from .model import AMENITY_CODES, TEXT_FIELDS, Status


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city: approximate centre (WGS84), population weight, districts."""

    province: str
    name: str
    lon: float
    lat: float
    weight: float  # urban population in millions, roughly: how many stations the city gets
    area_code: str
    districts: tuple[str, ...]


def _city(province: str, name: str, lon: float, lat: float, weight: float, area_code: str,
          districts: str) -> City:
    return City(province, name, lon, lat, weight, area_code, tuple(districts.split()))


# Approximate city centres; good to a kilometre or so, which is all clustering needs.
CITIES: Final[tuple[City, ...]] = (
    _city("北京市", "北京市", 116.407, 39.904, 21.9, "010",
          "东城区 西城区 朝阳区 海淀区 丰台区 石景山区 通州区 大兴区 昌平区 顺义区"),
    _city("上海市", "上海市", 121.474, 31.230, 24.9, "021",
          "黄浦区 徐汇区 长宁区 静安区 普陀区 虹口区 杨浦区 浦东新区 闵行区 宝山区 嘉定区 松江区"),
    _city("天津市", "天津市", 117.200, 39.084, 13.9, "022",
          "和平区 河西区 南开区 河北区 河东区 红桥区 滨海新区 西青区 东丽区 津南区"),
    _city("重庆市", "重庆市", 106.551, 29.563, 16.0, "023",
          "渝中区 江北区 南岸区 沙坪坝区 九龙坡区 渝北区 巴南区 北碚区"),
    _city("广东省", "广州市", 113.264, 23.129, 18.8, "020",
          "越秀区 海珠区 荔湾区 天河区 白云区 黄埔区 番禺区 花都区"),
    _city("广东省", "深圳市", 114.058, 22.543, 17.7, "0755",
          "福田区 罗湖区 南山区 宝安区 龙岗区 龙华区 盐田区 光明区"),
    _city("广东省", "东莞市", 113.752, 23.021, 10.5, "0769",
          "南城街道 东城街道 莞城街道 万江街道 虎门镇 长安镇"),
    _city("广东省", "佛山市", 113.122, 23.021, 9.6, "0757", "禅城区 南海区 顺德区 三水区 高明区"),
    _city("广东省", "珠海市", 113.577, 22.271, 2.5, "0756", "香洲区 斗门区 金湾区"),
    _city("广东省", "汕头市", 116.678, 23.357, 5.5, "0754", "金平区 龙湖区 濠江区 潮阳区"),
    _city("广东省", "湛江市", 110.359, 21.271, 7.0, "0759", "赤坎区 霞山区 麻章区 坡头区"),
    _city("广东省", "惠州市", 114.416, 23.111, 6.0, "0752", "惠城区 惠阳区"),
    _city("广东省", "中山市", 113.393, 22.517, 4.4, "0760", "石岐街道 东区街道 西区街道"),
    _city("广东省", "江门市", 113.082, 22.579, 4.8, "0750", "蓬江区 江海区 新会区"),
    _city("浙江省", "杭州市", 120.155, 30.274, 12.4, "0571",
          "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区"),
    _city("浙江省", "宁波市", 121.550, 29.874, 9.6, "0574", "海曙区 江北区 鄞州区 北仑区 镇海区"),
    _city("浙江省", "温州市", 120.699, 28.001, 9.7, "0577", "鹿城区 龙湾区 瓯海区"),
    _city("浙江省", "金华市", 119.643, 29.082, 7.1, "0579", "婺城区 金东区"),
    _city("浙江省", "嘉兴市", 120.755, 30.746, 5.5, "0573", "南湖区 秀洲区"),
    _city("浙江省", "绍兴市", 120.580, 30.030, 5.3, "0575", "越城区 柯桥区 上虞区"),
    _city("浙江省", "台州市", 121.421, 28.656, 6.6, "0576", "椒江区 黄岩区 路桥区"),
    _city("江苏省", "南京市", 118.797, 32.060, 9.5, "025",
          "玄武区 秦淮区 建邺区 鼓楼区 栖霞区 雨花台区 江宁区 浦口区"),
    _city("江苏省", "苏州市", 120.585, 31.299, 12.9, "0512", "姑苏区 虎丘区 吴中区 相城区 吴江区"),
    _city("江苏省", "无锡市", 120.312, 31.491, 7.5, "0510", "梁溪区 锡山区 惠山区 滨湖区 新吴区"),
    _city("江苏省", "常州市", 119.974, 31.811, 5.3, "0519", "天宁区 钟楼区 新北区 武进区"),
    _city("江苏省", "徐州市", 117.284, 34.205, 9.0, "0516", "鼓楼区 云龙区 泉山区 铜山区"),
    _city("江苏省", "南通市", 120.894, 31.981, 7.7, "0513", "崇川区 通州区 海门区"),
    _city("江苏省", "扬州市", 119.413, 32.394, 4.6, "0514", "广陵区 邗江区 江都区"),
    _city("江苏省", "盐城市", 120.163, 33.348, 6.7, "0515", "亭湖区 盐都区"),
    _city("山东省", "济南市", 117.121, 36.651, 9.4, "0531",
          "历下区 市中区 槐荫区 天桥区 历城区 长清区"),
    _city("山东省", "青岛市", 120.383, 36.067, 10.3, "0532",
          "市南区 市北区 李沧区 崂山区 黄岛区 城阳区"),
    _city("山东省", "烟台市", 121.448, 37.464, 7.1, "0535", "芝罘区 莱山区 福山区 牟平区"),
    _city("山东省", "潍坊市", 119.162, 36.707, 9.4, "0536", "奎文区 潍城区 寒亭区 坊子区"),
    _city("山东省", "临沂市", 118.356, 35.104, 11.0, "0539", "兰山区 罗庄区 河东区"),
    _city("山东省", "淄博市", 118.055, 36.813, 4.7, "0533", "张店区 淄川区 博山区 临淄区"),
    _city("山东省", "济宁市", 116.587, 35.415, 8.4, "0537", "任城区 兖州区"),
    _city("河南省", "郑州市", 113.619, 34.748, 12.6, "0371",
          "中原区 二七区 金水区 管城回族区 惠济区"),
    _city("河南省", "洛阳市", 112.454, 34.620, 7.1, "0379",
          "西工区 老城区 涧西区 瀍河回族区 洛龙区"),
    _city("河南省", "南阳市", 112.528, 32.991, 9.7, "0377", "宛城区 卧龙区"),
    _city("河北省", "石家庄市", 114.514, 38.042, 11.2, "0311", "长安区 桥西区 新华区 裕华区"),
    _city("河北省", "唐山市", 118.180, 39.630, 7.7, "0315", "路南区 路北区 开平区 丰南区"),
    _city("河北省", "保定市", 115.464, 38.874, 11.5, "0312", "竞秀区 莲池区 满城区 清苑区"),
    _city("河北省", "邯郸市", 114.533, 36.626, 9.4, "0310", "邯山区 丛台区 复兴区 永年区"),
    _city("河北省", "廊坊市", 116.684, 39.538, 5.5, "0316", "广阳区 安次区"),
    _city("湖北省", "武汉市", 114.305, 30.593, 13.7, "027",
          "江岸区 江汉区 硚口区 汉阳区 武昌区 青山区 洪山区"),
    _city("湖北省", "宜昌市", 111.281, 30.694, 4.0, "0717", "西陵区 伍家岗区 点军区"),
    _city("湖北省", "襄阳市", 112.122, 32.009, 5.3, "0710", "襄城区 樊城区 襄州区"),
    _city("湖南省", "长沙市", 112.938, 28.228, 10.4, "0731",
          "芙蓉区 天心区 岳麓区 开福区 雨花区 望城区"),
    _city("湖南省", "衡阳市", 112.572, 26.893, 6.6, "0734", "蒸湘区 石鼓区 雁峰区 珠晖区"),
    _city("湖南省", "岳阳市", 113.129, 29.357, 5.0, "0730", "岳阳楼区 云溪区 君山区"),
    _city("湖南省", "株洲市", 113.134, 27.828, 3.9, "0731", "天元区 荷塘区 芦淞区 石峰区"),
    _city("四川省", "成都市", 104.066, 30.573, 21.2, "028",
          "锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 双流区 郫都区"),
    _city("四川省", "绵阳市", 104.679, 31.468, 4.9, "0816", "涪城区 游仙区 安州区"),
    _city("四川省", "南充市", 106.111, 30.838, 5.6, "0817", "顺庆区 高坪区 嘉陵区"),
    _city("四川省", "宜宾市", 104.641, 28.752, 4.6, "0831", "翠屏区 南溪区 叙州区"),
    _city("四川省", "泸州市", 105.439, 28.875, 4.3, "0830", "江阳区 龙马潭区 纳溪区"),
    _city("陕西省", "西安市", 108.940, 34.341, 13.0, "029",
          "新城区 碑林区 莲湖区 雁塔区 未央区 灞桥区 长安区"),
    _city("陕西省", "宝鸡市", 107.238, 34.362, 3.3, "0917", "渭滨区 金台区 陈仓区"),
    _city("福建省", "福州市", 119.296, 26.074, 8.3, "0591", "鼓楼区 台江区 仓山区 晋安区 马尾区"),
    _city("福建省", "厦门市", 118.089, 24.480, 5.3, "0592", "思明区 湖里区 集美区 海沧区 同安区"),
    _city("福建省", "泉州市", 118.671, 24.877, 8.8, "0595", "鲤城区 丰泽区 洛江区 泉港区"),
    _city("福建省", "漳州市", 117.647, 24.513, 5.1, "0596", "芗城区 龙文区 龙海区"),
    _city("安徽省", "合肥市", 117.227, 31.821, 9.4, "0551", "瑶海区 庐阳区 蜀山区 包河区"),
    _city("安徽省", "芜湖市", 118.433, 31.352, 3.7, "0553", "镜湖区 弋江区 鸠江区"),
    _city("安徽省", "蚌埠市", 117.389, 32.916, 3.3, "0552", "蚌山区 龙子湖区 禹会区 淮上区"),
    _city("江西省", "南昌市", 115.858, 28.683, 6.4, "0791",
          "东湖区 西湖区 青云谱区 青山湖区 红谷滩区"),
    _city("江西省", "赣州市", 114.935, 25.831, 9.0, "0797", "章贡区 南康区 赣县区"),
    _city("江西省", "九江市", 115.993, 29.712, 4.6, "0792", "浔阳区 濂溪区 柴桑区"),
    _city("辽宁省", "沈阳市", 123.425, 41.803, 9.1, "024",
          "和平区 沈河区 大东区 皇姑区 铁西区 浑南区"),
    _city("辽宁省", "大连市", 121.615, 38.914, 7.5, "0411",
          "中山区 西岗区 沙河口区 甘井子区 金州区"),
    _city("辽宁省", "鞍山市", 122.994, 41.108, 3.3, "0412", "铁东区 铁西区 立山区 千山区"),
    _city("吉林省", "长春市", 125.324, 43.817, 9.1, "0431", "南关区 宽城区 朝阳区 二道区 绿园区"),
    _city("吉林省", "吉林市", 126.549, 43.838, 3.6, "0432", "船营区 昌邑区 龙潭区 丰满区"),
    _city("黑龙江省", "哈尔滨市", 126.535, 45.803, 10.0, "0451",
          "道里区 南岗区 道外区 香坊区 松北区"),
    _city("黑龙江省", "大庆市", 125.104, 46.589, 2.8, "0459", "萨尔图区 让胡路区 龙凤区"),
    _city("山西省", "太原市", 112.549, 37.870, 5.3, "0351", "小店区 迎泽区 杏花岭区 万柏林区"),
    _city("内蒙古自治区", "呼和浩特市", 111.749, 40.842, 3.4, "0471",
          "新城区 回民区 玉泉区 赛罕区"),
    _city("内蒙古自治区", "包头市", 109.840, 40.657, 2.7, "0472", "昆都仑区 青山区 东河区"),
    _city("广西壮族自治区", "南宁市", 108.366, 22.817, 8.9, "0771",
          "青秀区 兴宁区 江南区 西乡塘区 良庆区 邕宁区"),
    _city("广西壮族自治区", "柳州市", 109.416, 24.326, 4.2, "0772", "城中区 鱼峰区 柳南区 柳北区"),
    _city("广西壮族自治区", "桂林市", 110.290, 25.274, 4.9, "0773",
          "秀峰区 叠彩区 象山区 七星区 雁山区"),
    _city("云南省", "昆明市", 102.833, 24.880, 8.5, "0871", "五华区 盘龙区 官渡区 西山区 呈贡区"),
    _city("云南省", "曲靖市", 103.796, 25.490, 5.8, "0874", "麒麟区 沾益区 马龙区"),
    _city("贵州省", "贵阳市", 106.630, 26.647, 6.0, "0851", "南明区 云岩区 花溪区 乌当区 观山湖区"),
    _city("贵州省", "遵义市", 106.927, 27.725, 6.6, "0851", "红花岗区 汇川区 播州区"),
    _city("海南省", "海口市", 110.199, 20.044, 2.9, "0898", "秀英区 龙华区 琼山区 美兰区"),
    _city("海南省", "三亚市", 109.512, 18.253, 1.0, "0898", "吉阳区 天涯区 海棠区 崖州区"),
    _city("甘肃省", "兰州市", 103.834, 36.061, 4.4, "0931", "城关区 七里河区 西固区 安宁区"),
    _city("青海省", "西宁市", 101.778, 36.617, 2.5, "0971", "城东区 城中区 城西区 城北区"),
    _city("宁夏回族自治区", "银川市", 106.231, 38.487, 2.9, "0951", "兴庆区 金凤区 西夏区"),
    _city("新疆维吾尔自治区", "乌鲁木齐市", 87.617, 43.826, 4.1, "0991",
          "天山区 沙依巴克区 新市区 水磨沟区"),
    _city("西藏自治区", "拉萨市", 91.117, 29.647, 0.9, "0891", "城关区 堆龙德庆区 达孜区"),
)

# Road names common to most Chinese cities; a station sits at the corner of two of them.
ROADS: Final[tuple[str, ...]] = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "胜利路", "文化路", "长江路",
    "黄河路", "朝阳路", "友谊路", "青年路", "东风路", "迎宾大道", "民族大道", "滨江路", "学府路",
    "工业大道", "科技路", "花园路", "体育路", "光明路", "幸福路", "公园路", "北京路", "南京路",
    "环城路", "站前路", "世纪大道", "振兴路", "团结路", "春晖路", "红旗路", "育才路",
)

# Share of stations offering each amenity; from the amenity lists in union reports, where
# drinking water, seats, air conditioning and charging are near universal.
AMENITY_SHARES: Final[dict[str, float]] = {
    "drinking_water": 0.98, "fridge": 0.60, "microwave": 0.80, "air_conditioning": 0.90,
    "heating": 0.35, "washing_machine": 0.15, "phone_charging": 0.85, "ebike_charging": 0.40,
    "free_parking": 0.20, "toilet": 0.55, "rest_seats": 0.95, "reading_corner": 0.50,
    "first_aid": 0.70, "legal_aid": 0.45, "union_signup": 0.60, "wifi": 0.55,
}
OPENING_HOURS_SHARES: Final[dict[str, float]] = {
    "24/7": 0.80, "Mo-Su 08:00-20:00": 0.10, "Mo-Fr 09:00-17:00": 0.05,
    "Mo-Su 07:00-22:00": 0.05,
}
STATUS_SHARES: Final[dict[str, float]] = {
    Status.OPEN.value: 0.95, Status.TEMPORARILY_CLOSED.value: 0.04, Status.CLOSED.value: 0.01,
}
STATION_KINDS: Final[dict[str, float]] = {"工会驿站": 0.75, "户外劳动者服务站": 0.25}

# Two stations closer than this would look like one station entered twice; the validator
# flags those, so the synthetic table keeps its stations further apart.
MIN_SPACING_M: Final = 40.0
_M_PER_DEG_LAT: Final = 110_574.0
_M_PER_DEG_LON_EQUATOR: Final = 111_320.0


def synthesize_table(count: int, seed: int = 0) -> pd.DataFrame:
    """``count`` synthetic stations, the same for the same ``seed``."""
    if count < 0:
        raise ValueError(f"count must be zero or more, not {count}")
    rng = np.random.default_rng(seed)
    weights = _attribute("weight").astype(float)
    cities = rng.choice(len(CITIES), size=count, p=weights / weights.sum())
    lon, lat, bearing = _scatter_around_centres(rng, cities)
    district = _districts_by_sector(cities, bearing)
    road = np.asarray(ROADS, dtype=object)
    main_index = rng.integers(0, len(ROADS), count)
    # The cross road is any other road: shift by 1..len-1 places in the list.
    cross_index = (main_index + rng.integers(1, len(ROADS), count)) % len(ROADS)
    main_road, cross_road = road[main_index], road[cross_index]
    kind = _choose(rng, STATION_KINDS, count)
    city_name = _attribute("name")[cities]
    province = _attribute("province")[cities]
    house_number = rng.integers(1, 400, count).astype(str).astype(object)

    table: dict[str, object] = {
        "id": [f"SYN-{i:06d}" for i in range(1, count + 1)],
        "name": district + main_road + cross_road + "口" + kind,
        "name_en": "",
        # Municipalities (北京市, 重庆市 ...) are written once, not as province and city.
        "address": np.where(province == city_name, "", province) + city_name + district
        + main_road + house_number + "号",
        "province": province,
        "city": city_name,
        "district": district,
        "operator": city_name + district + "总工会",
        "phone": _attribute("area_code")[cities] + "-12351",
        "opening_hours": _choose(rng, OPENING_HOURS_SHARES, count),
        "status": _choose(rng, STATUS_SHARES, count),
        "source": f"合成数据（stations synth，seed={seed}）",
        "updated_at": _update_times(rng, count),
    }
    frame = pd.DataFrame({field: table[field] for field in TEXT_FIELDS if field in table})
    frame["lon"] = np.round(lon, 6)
    frame["lat"] = np.round(lat, 6)
    frame["amenities"] = _amenity_lists(rng, count)
    return frame


def _attribute(name: str) -> np.ndarray:
    """One attribute of every city, as an array to index with city numbers."""
    values = [getattr(city, name) for city in CITIES]
    if isinstance(values[0], float):
        return np.array(values, dtype=float)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _scatter_around_centres(
    rng: np.random.Generator, cities: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions around each city centre: a dense core and a wider ring of suburbs.

    Returns longitudes, latitudes and the bearing from the centre (radians), which decides the
    district.  Stations closer than :data:`MIN_SPACING_M` are pushed apart.
    """
    count = len(cities)
    centre_lon = _attribute("lon")[cities]
    centre_lat = _attribute("lat")[cities]
    weight = _attribute("weight")[cities]
    spread_m = 2_500.0 + 1_500.0 * np.sqrt(weight)
    suburb = rng.random(count) < 0.25
    spread_m = np.where(suburb, 2.5 * spread_m, spread_m)
    east_m = rng.normal(0.0, 1.0, count) * spread_m
    north_m = rng.normal(0.0, 1.0, count) * spread_m
    lat = centre_lat + north_m / _M_PER_DEG_LAT
    lon = centre_lon + east_m / (_M_PER_DEG_LON_EQUATOR * np.cos(np.radians(centre_lat)))
    lon, lat = _push_apart(rng, lon, lat)
    return lon, lat, np.arctan2(north_m, east_m)


def _push_apart(
    rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move one station of every pair closer than MIN_SPACING_M until no such pair is left.

    Pairs are found among points on a sphere of the earth's radius (the chord equals the
    ground distance at these scales), so neighbouring cities are checked against each other.
    """
    lon, lat = lon.copy(), lat.copy()
    for _ in range(20):
        pairs = cKDTree(unit_vectors(lon, lat) * EARTH_RADIUS_M).query_pairs(
            MIN_SPACING_M, output_type="ndarray")
        if len(pairs) == 0:
            break
        movers = np.unique(pairs[:, 1])
        angle = rng.uniform(0.0, 2 * np.pi, len(movers))
        step_m = rng.uniform(MIN_SPACING_M, 3 * MIN_SPACING_M, len(movers))
        lat[movers] += step_m * np.sin(angle) / _M_PER_DEG_LAT
        lon[movers] += step_m * np.cos(angle) / (
            _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat[movers])))
    return lon, lat


def _districts_by_sector(cities: np.ndarray, bearing: np.ndarray) -> np.ndarray:
    """Name each station's district by the compass sector it lies in from the centre, so
    stations of one district sit together on the map as they do in reality."""
    districts = _attribute("districts")
    district_count = np.array([len(names) for names in districts])[cities]
    turn = (bearing + np.pi) / (2 * np.pi)  # 0..1
    sector = np.minimum((turn * district_count).astype(int), district_count - 1)
    # Number every (city, district) pair in one flat list and index it.
    flat = np.array([name for names in districts for name in names], dtype=object)
    first = np.cumsum([0] + [len(names) for names in districts])[:-1]
    return flat[first[cities] + sector]


def _choose(rng: np.random.Generator, shares: dict[str, float], count: int) -> np.ndarray:
    options = np.asarray(list(shares), dtype=object)
    p = np.fromiter(shares.values(), dtype=float)
    return options[rng.choice(len(options), size=count, p=p / p.sum())]


def _update_times(rng: np.random.Generator, count: int) -> np.ndarray:
    """Update stamps spread over 2024, in China Standard Time as office sheets write them."""
    start = np.datetime64("2024-01-01T00:00")
    minutes = rng.integers(0, 366 * 24 * 60, count).astype("timedelta64[m]")
    stamps = np.datetime_as_string(start + minutes, unit="s")
    return np.char.add(stamps, "+08:00").astype(object)


def _amenity_lists(rng: np.random.Generator, count: int) -> np.ndarray:
    """``;``-joined amenity codes; rows with the same set share one string."""
    shares = np.array([AMENITY_SHARES[code] for code in AMENITY_CODES])
    has = rng.random((count, len(AMENITY_CODES))) < shares
    bits = has @ (1 << np.arange(len(AMENITY_CODES), dtype=np.int64))
    combos, inverse = np.unique(bits, return_inverse=True)
    texts = np.array(
        [";".join(c for k, c in enumerate(AMENITY_CODES) if combo >> k & 1) for combo in combos],
        dtype=object,
    )
    return texts[inverse]
