import { concatBytes } from '../http/bytes.ts';
/**
 * Finding a document's charset and turning it into UTF-8. The WASM lol-html build is UTF-8 only, and
 * TextEncoder writes only UTF-8, so every non-UTF-8 text body is transcoded and re-declared as UTF-8
 * (on both runtimes, so readers see the same thing everywhere).
 */

const canonicalCache = new Map<string, string | null>();

/** The WHATWG encoding name for a label ("gb2312" → "gbk"), or null when the label is unknown. */
export function canonicalCharset(label: string): string | null {
  const key = label.trim().toLowerCase();
  let name = canonicalCache.get(key);
  if (name === undefined) {
    try {
      name = new TextDecoder(key).encoding;
    } catch {
      name = null;
    }
    if (canonicalCache.size < 256) canonicalCache.set(key, name);
  }
  return name;
}

export function charsetFromContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*"?([^\s;"]+)/i.exec(contentType);
  return m ? canonicalCharset(m[1]!) : null;
}

/**
 * BOM, then `<meta charset>` / `<meta http-equiv=Content-Type content="…charset=…">` (HTML's prescan,
 * simplified) in the first `scan` bytes. The spec's prescan reads 1024 bytes; a later declaration in
 * the bytes held back for detection anyway is honoured too, as browsers do when they re-decode
 * on a late <meta>.
 */
export function sniffHtmlCharset(prefix: Uint8Array, scan = 2048): string | null {
  if (prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf) return 'utf-8';
  if (prefix[0] === 0xfe && prefix[1] === 0xff) return 'utf-16be';
  if (prefix[0] === 0xff && prefix[1] === 0xfe) return 'utf-16le';
  const head = latin1(prefix, scan);
  const m = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_:.+-]+)/i.exec(head);
  if (!m) return null;
  const name = canonicalCharset(m[1]!);
  // A page cannot truthfully declare UTF-16 in an ASCII-compatible meta: the HTML spec reads that as UTF-8.
  return name && name.startsWith('utf-16') ? 'utf-8' : name;
}

/**
 * How many bytes are held back, at most, to find an undeclared page's charset: a <meta> or enough
 * non-ASCII text for the detector. Pages that stay ASCII that long are decided by the default.
 */
export const SNIFF_LIMIT = 64 * 1024;
/** Non-ASCII bytes that make the detector's answer clear (a few hundred Chinese characters). */
const ENOUGH_NON_ASCII = 1024;

/**
 * Follows the bytes of an undeclared page as they arrive (linear: each byte is looked at once) and
 * says when enough are in to decide its charset.
 */
export class CharsetSniffer {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  private nonAscii = 0;
  private metaSeen = false;
  /** The end of the bytes before the chunk (a tag may straddle chunks). */
  private tail = '';

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i]! >= 0x80) this.nonAscii++;
    if (!this.metaSeen) {
      const text = this.tail + latin1(chunk, chunk.length);
      if (/<meta\b[^>]*charset[^>]*>/i.test(text)) this.metaSeen = true;
      this.tail = text.slice(-512);
    }
  }

  get enough(): boolean {
    return this.metaSeen || this.nonAscii >= ENOUGH_NON_ASCII || this.total >= SNIFF_LIMIT;
  }

  /** The charset of the bytes seen: BOM or <meta> if any, else the detector's guess. `complete`: the whole body is in. */
  decide(complete: boolean): string {
    const bytes = concatBytes(this.chunks, this.total);
    return sniffHtmlCharset(bytes, bytes.length) ?? detectCharset(bytes, complete);
  }
}

/**
 * The charset to assume for a page nothing declares, when its text does not tell: the locale
 * default browsers use for Simplified Chinese readers (the mirror's audience).
 */
export const DEFAULT_LEGACY_CHARSET = 'gbk';

/**
 * Frequent Chinese characters, simplified and traditional. Text decoded with the right legacy
 * charset is full of them; the same bytes decoded with the wrong one are mostly rare characters.
 */
const COMMON_HAN = new Set(
  (
    '的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻订彩抽赞魔纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒债曼融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋庆撤泪茶疾缘播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕徐珍幕映裂泰隔启尖忠累炎暂估泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸晓劲贫仁偶辑邦恢赖圈摸仰润堆碰艇稍迟辆废净凶署壁御奉旋冬矿抬蛋晨伏吹鸡倍糊秦盾杯租骑乏隆诊奴摄丧污渡旗甘耐凭扎抢绪粗肩梁幻菲皆碎宙叔岩荡综爬荷悉蒂返井壮薄悄扫敏碍殖详迪矛霍允幅撒剩凯颗骂赏液番箱贴漫酸郎腰舒眉忧浮辛恋餐吓挺励辞艘键伍峰尺昨黎辈贯侦滑券崇扰宪绕趋慈乔阅汗枝拖墨胁插箭腊粉泥氏彭拔骗凤慧媒佩愤扑龄驱惜豪掩兼跃尸肃帕驶堡届欣惠册储飘桑闲惨洁踪勃宾频仇磨递邪撞拟滚奏巡颜剂绩贡疯坡瞧截燃焦殿伪柳锁逼颇昏劝呈搜勤戒驾漂饮曹朵仔柔俩孟腐幼践籍牧凉牲佳娜浓芳稿竹腹跌逻垂遵脉貌柏狱猜怜惑陶兽帐饰贷昌叙躺钢沟寄扶铺邓寿惧询汤盗肥尝匆辉奈扣廷澳嘛董迁凝慰厌脏腾幽怨鞋丢埋泉涌辖躲晋紫艰魏吾慌祝邮吐狠鉴曰械咬邻赤挤弯椅陪割揭韦悟聪雾锋梯猫祥阔誉筹丛牵鸣沈阁穆屈旨袖猎臂蛇贺柱抛鼠瑟戈牢逊迈欺吨琴衰瓶恼燕仲诱狼池疼卢仗冠粒遥吕玄尘冯抚浅敦纠钻晶岂峡苍喷耗凌敲菌赔涂粹扁亏寂煤熊恭湿循暖糖赋抑秩帽哀宿踏烂袁侯抖夹昆肝擦猪炼恒慎搬纽纹玻渔磁铜齿跨押怖漠疲叛遣兹祭醉拳弥斜档稀捷肤疫肿豆削岗晃吞宏癌肚隶履涨耀扭坛拨沃绘伐堪仆郭牺歼墓雇廉契拼惩捉覆刷劫嫌瓜歇雕闷乳串娃缴唤赢莲霸桃妥瘦搭赴岳嘉舱俊址庞耕锐缝悔邀玲惟斥宅添挖呵讼氧浩羽斤酷掠妖祸侍乙妨贪挣汪尿莉悬唇翰仓轨枚盐览傅帅庙芬屏寺胖璃愚滴疏萧姿颤丑劣柯寸扔盯辱匹俱辨饿蜂哦腔郁溃谨糟葛苗肠忌溜鸿爵鹏鹰笼丘桂滋聊挡纲肌茨壳痕碗穴膀卓贤卧膜毅锦欠哩函茫昂薛皱夸豫胃舌剥傲拾窝睁携陵哼棉晴铃填饲渴吻扮逆脆喘罩卜炉柴愉绳胎蓄眠竭喂傻慕浑奸扇柜悦拦诞饱乾泡贼亭夕爹酬儒姻卵氛泄杆挨僧蜜吟猩遂狭肖甜霞驳裕顽於摘矮秒卿畜咽披辅勾盆疆赌塑畏吵囊嗯泊肺骤缠冈羞瞪吊贾漏斑涛悠鹿俘锡卑葬铭滩嫁催璇翅盒蛮矣潘歧赐鲍锅廊拆灌勉盲宰佐啥胀扯禧辽抹筒棋裤唉朴咐孕誓喉妄拘链驰栏逝窃艳臭纤玑棵趁匠盈翁愁瞬婴孝颈倘浙谅蔽畅赠妮莎尉冻跪闯葡後厨鸭颠遮谊圳吁仑辟瘤嫂陀框谭亨钦庸歉芝吼甫衫摊宴嘱衷娇陕矩浦讶耸裸碧摧薪淋耻胶屠鹅饥盼脖虹翠崩账萍逢赚撑翔倡绵猴枯巫昭怔渊凑溪蠢禅阐旺寓藤匪伞碑挪琼脂谎慨菩萄狮掘抄岭晕逮砍掏狄晰罕挽脾舟痴蔡剪脊弓懒叉拐喃僚捐姊骚拓歪粘柄坑陌窄湘兆崖骄刹鞭芒筋聘钩棍嚷腺弦焰耍俯厘愣厦恳饶钉寡憾摔叠惹喻谱愧煌徽溶坠煞巾滥洒堵瓷咒姨棒郡浴媚稣淮哎屁漆淫巢吩撰啸滞玫硕钓蝶膝姚茂躯吏猿寨恕渠戚辰舶颁惶狐讽笨袍嘲啡泼衔倦涵雀旬僵撕肢垄夷逸茅侨舆窑涅蒲谦杭噢弊勋刮郊凄捧浸砖鼎篮蒸饼亩肾陡爪兔殷贞荐哑炭坟眨搏咳拢舅昧擅爽咖搁禄雌哨巩绢螺裹昔轩谬谍龟媳姜瞎冤鸦蓬巷琳栽沾诈斋瞒彪厄咨纺罐桶壤糕颂膨谐垒咕隙辣绑宠嘿兑霉挫稽辐乞纱裙嘻哇绣杖塘衍轴攀膊譬斌祈踢肆坎轿棚泣屡躁邱凰溢椎砸趟帘帆栖窜丸斩堤塌贩厢掀喀乖谜捏阎滨虏匙芦苹卸沼钥株祷剖熙哗劈怯棠胳桩瑰娱娶沫嗓蹲焚淘嫩韵衬匈钧竖峻豹捞菊鄙魄兜哄颖镑屑蚁壶怡渗秃迦旱哟咸焉谴宛稻铸锻伽詹毙恍贬烛骇芯汁桓坊驴朽靖佣汝碌迄冀荆崔雁绅珊榜诵傍彦醇笛禽勿娟瞄幢寞睹贿踩霆呜拱妃蔑谕缚诡篷淹腕煮倩卒勘馨逗甸贱炒灿敞蜡囚栗辜垫妒魁谣寒蜀甩涯枕丐泳奎泌逾叮黛燥掷藉枢憎鲸弘倚侮藩拂鹤蚀浆芙垃烤晒霜剿蕴圾绸屿氢驼妆捆铅逛淑榴丙痒钞蹈嗡邑凳姗刃袜咆娥挠骆驯乔杉郝斐壹粥莹蒋兜毯澄粤狸呻谤仔缕瑚蹄坪弛愕茵剃蕉槽嘀嫉凸朦揽掐聋秉宦篡鸽僻蟹哺戳蓉瀑琐栋亥俭贬阀裴猾掸厕钾卦渣矗吝懈伺馈蕾扒坝诀耽萌惮讹缸酿漓绰抒瑜碳绒篱岖瘾俭铝汹铲蔬憨涕昼婉梧鳞殴卤拙辙犀瞥濒逞厮箍炊镶峦猕筐霄瞻匣疹冶宵坤剔烘鸥沪谓'
    + '這個們來為國說時會對於過發後裡實軍與長機現當動麼還進經無開從種樣間問關點業頭應兩體給學見話將條數讓氣認總變結義電區東東書門區報陽萬統領員隊師傳輕語誰錢讀嗎區聲華戰歷難題單響視覺聽陸產選議寫鄉務臺灣灣緊參創車運轉達導術際觀隨聯節較雖試劃價錄費負責據擊邊類號遠網腦權園團靈職醫訊雙雜劇黨屬證聞顯環獲護藝蘭約離鐵較適備圖確魚紀飛續標葉認總織廣藥頭雞鳥龍門齊壓張術線議論讓調斷質農築練講興試細紅賣買熱殺監鬥財錯貨韓湯滿鮮顧雲憶頁險陣優雜請記換處錢詩聖際練驗傳響歡樂歐亞氣問應點'
  ).split(''),
);

/**
 * The detector for a page nothing declares (after BOM, header and <meta>): UTF-8 when its bytes are
 * valid UTF-8; else GBK or Big5, whichever decoding yields more frequent Chinese characters and fewer
 * invalid sequences; else (ASCII only so far) the default. Bounded: looks at most SNIFF_LIMIT bytes.
 *
 * Written here rather than taken from a library: the detectors on npm (jschardet, chardet) carry
 * tables for dozens of languages (hundreds of KB in the Worker bundle) where the mirror's pages are
 * UTF-8, GBK/GB18030 or Big5; this is what browsers' detectors decide between for Chinese pages.
 */
export function detectCharset(bytes: Uint8Array, complete: boolean): string {
  const sample = bytes.subarray(0, SNIFF_LIMIT);
  let nonAscii = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i]! >= 0x80) nonAscii++;
  if (nonAscii === 0) return complete ? 'utf-8' : DEFAULT_LEGACY_CHARSET;
  // A multi-byte sequence may be cut at the end of the sample: drop up to 3 trailing bytes.
  let end = sample.length;
  if (!complete) {
    let back = 0;
    while (back < 3 && end - back > 0 && (sample[end - 1 - back]! & 0xc0) === 0x80) back++;
    if (end - back > 0 && sample[end - 1 - back]! >= 0xc0) end -= back + 1;
  }
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(sample.subarray(0, end));
    return 'utf-8';
  } catch {
    // not UTF-8
  }
  const gbk = score(sample, 'gbk');
  const big5 = score(sample, 'big5');
  return big5 > gbk ? 'big5' : 'gbk';
}

function score(bytes: Uint8Array, charset: string): number {
  const text = new TextDecoder(charset).decode(bytes);
  let points = 0;
  for (const ch of text) {
    if (ch === '\ufffd') points -= 20;
    else if (COMMON_HAN.has(ch)) points += 1;
  }
  return points;
}

/** The encoding an XML declaration names (`<?xml version="1.0" encoding="big5"?>`), or null. */
export function xmlDeclaredCharset(prefix: Uint8Array): string | null {
  const head = latin1(prefix, 256);
  const m = /^(?:\xef\xbb\xbf)?<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']+)["']/.exec(head);
  return m ? canonicalCharset(m[1]!) : null;
}

function latin1(bytes: Uint8Array, max: number): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i += 1024) s += String.fromCharCode(...bytes.subarray(i, Math.min(n, i + 1024)));
  return s;
}
