/**
 * Texts for load tests, written for this repository: Chinese, English and mixed (Chinese with English words, digits
 * and brand names, as real TTS traffic looks), in three lengths. Short ≈ a notification, medium ≈ the article's
 * 29-character sentence to a paragraph, long ≈ several sentences (the node splits them into segments).
 */
export type Language = "zh" | "en" | "mixed";
export type Length = "short" | "medium" | "long";

export interface CorpusText {
  id: string;
  language: Language;
  length: Length;
  text: string;
}

/** The article's request body for POST /synthesize (its locustfile), character for character. */
export const ARTICLE_TEXT = "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。";
export const ARTICLE_PAYLOAD = { text: ARTICLE_TEXT, emotion: "happy", speaker_id: 0, speed: 1.0 } as const;

const zh: Record<Length, string[]> = {
  short: ["您的快递已到达楼下。", "会议将在五分钟后开始。", "请注意，列车即将进站。", "今天天气晴，适合出行。"],
  medium: [
    "尊敬的用户，您好。您本月的账单已经生成，请在二十五日之前完成支付，以免影响正常使用。",
    "前方路口右转后直行三百米，目的地就在您的左手边，附近有一个地下停车场。",
    "这本书讲述了一个小镇女孩离开家乡、在大城市里学习和成长的故事，语言朴素而温暖。",
    "欢迎收听今天的早间新闻。气象部门预计，本周末全省大部分地区将迎来明显降温。",
  ],
  long: [
    "春天来的时候，河边的柳树先绿了。孩子们放学以后总喜欢沿着河堤跑，一边跑一边数水面上的小船。老人们坐在石凳上聊天，说今年的雨水比往年多，庄稼一定长得好。傍晚时分，炊烟从屋顶上升起，整个村子都安静下来，只剩下远处偶尔传来的几声狗叫。",
    "各位旅客请注意，由本站开往北京西的列车因前方线路施工，预计晚点四十分钟。请您留意车站广播和显示屏上的最新信息，在候车区耐心等候。需要改签或退票的旅客，可以前往一楼人工售票窗口办理，也可以通过手机应用自助操作。给您带来的不便，我们深表歉意。",
    "在开始使用本设备之前，请仔细阅读以下说明。首先，将电源适配器连接到设备背面的接口，并确认指示灯亮起。然后，长按开机键三秒钟，屏幕会显示欢迎界面。按照提示选择语言和网络，完成初始设置后，设备会自动检查并安装最新的系统更新。",
  ],
};

const en: Record<Length, string[]> = {
  short: ["Your order has shipped.", "The meeting starts in five minutes.", "Please mind the gap.", "Good morning!"],
  medium: [
    "Thanks for calling. All of our agents are busy right now, so please stay on the line and we will be with you shortly.",
    "Turn left at the next light, then continue for about half a mile. Your destination will be on the right.",
    "The museum is open from nine to five on weekdays, and until eight in the evening on Fridays and Saturdays.",
    "This chapter explains how the heart moves blood around the body, and why exercise keeps it strong.",
  ],
  long: [
    "The storm arrived a little after midnight. At first it was only wind, rattling the shutters and bending the old pines behind the house. Then the rain came all at once, loud on the tin roof, and the power went out. We lit two candles, made tea on the gas stove, and listened to the river rising in the dark. By morning the garden was a lake, but everyone was safe.",
    "Welcome to the quarterly update. Revenue grew for the third quarter in a row, driven mostly by our subscription products, while costs stayed roughly flat. We opened two new offices and hired forty engineers. Next quarter we will focus on reliability: fewer incidents, faster recovery, and clearer status pages for our customers.",
    "Before you begin, make sure the device is charged and connected to a stable network. Open the settings menu, choose accessibility, and then select spoken content. From there you can pick a voice, adjust the speaking rate, and decide whether the device should read notifications aloud when the screen is locked.",
  ],
};

const mixed: Record<Length, string[]> = {
  short: ["您的 iPhone 已充满电。", "打开 Wi-Fi 设置。", "验证码是 482913。", "明天 9:30 开 standup。"],
  medium: [
    "本次 OTA 升级包含三个重要修复，请在 Wi-Fi 环境下下载，安装过程大约需要 15 分钟。",
    "我们在 GitHub 上发布了 v2.1 版本，新增了 emotion control 和 batch inference 两个功能。",
    "您预订的 CA1234 航班将于 14:05 从首都机场 T3 航站楼起飞，请提前两小时到达。",
    "欢迎使用 IndexTTS2 API，每秒音频计 50 个 token，按实际生成的音频时长计费。",
  ],
  long: [
    "大家好，欢迎来到今天的 tech talk。我们先回顾一下上周的 sprint：后端团队把 API 的 p95 延迟从 800 毫秒降到了 350 毫秒，主要是因为引入了 dynamic batching 和更合理的 connection pool。接下来，前端同学会演示新的 dashboard，里面可以看到每个 GPU 的 utilization 和每分钟的 token 数。",
    "根据最新的 benchmark，在一张 RTX 4090 上，模型可以同时服务大约 40 个并发用户，平均 RTF 在 0.3 左右。如果换成 A100，吞吐量还能再提高一倍。不过在实际部署时，我们建议把目标利用率控制在 70% 以内，给突发流量留出足够的余量，同时配置好 rate limit 和 circuit breaker。",
  ],
};

function build(language: Language, texts: Record<Length, string[]>): CorpusText[] {
  return (Object.keys(texts) as Length[]).flatMap((length) =>
    texts[length].map((text, i) => ({ id: `${language}-${length}-${i + 1}`, language, length, text })),
  );
}

export const CORPUS: readonly CorpusText[] = [...build("zh", zh), ...build("en", en), ...build("mixed", mixed)];
