/** The digital film's words in English and Simplified Chinese; the browser's language picks, a switch overrides. */
import type { LungRadsCategory } from '../../shared/lung-rads-category.js';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** What a Lung-RADS category means, in words a patient reads. */
type CategoryWords = Record<LungRadsCategory, string>;
type NoduleTypeWords = Record<'solid' | 'part-solid' | 'ground-glass', string>;
type LinkStatusWords = Record<'active' | 'expired' | 'revoked' | 'not-yet-valid', string>;
type OutcomeWords = Record<
  'visited' | 'opened' | 'wrong-second-factor' | 'expired' | 'revoked' | 'not-yet-valid',
  string
>;

export interface Messages {
  title: string;
  language: string;
  loading: string;
  // Links that do not open.
  unknownTitle: string;
  unknownText: string;
  expiredTitle: string;
  expiredText: string;
  revokedTitle: string;
  revokedText: string;
  sessionEndedTitle: string;
  sessionEndedText: string;
  openAgain: string;
  failed: string;
  // The second factor.
  protectedTitle: string;
  pinHint: string;
  birthDateHint: string;
  pin: string;
  birthDate: string;
  open: string;
  wrongSecondFactor: string;
  tooManyAttempts: string;
  // Header.
  studyOn: (date: string) => string;
  // Report.
  report: string;
  notSignedOff: string;
  lungRads: (category: string) => string;
  categoryMeaning: CategoryWords;
  followUpMonths: (months: number) => string;
  followUpFurtherTests: string;
  followUpIncomplete: string;
  nodules: string;
  noNodules: string;
  noduleTypes: NoduleTypeWords;
  nodule: (n: number, type: string, long: string, short: string) => string;
  keyImageAlt: (n: number) => string;
  showInImages: (n: number) => string;
  secondOpinions: string;
  secondOpinion: (institution: string, agrees: boolean, category: string) => string;
  signedOffBy: (who: string | null, when: string) => string;
  disclaimer: string;
  // Images.
  images: string;
  series: string;
  seriesName: (n: number, description: string | null, count: number) => string;
  slice: string;
  sliceOf: (k: number, n: number) => string;
  previousSlice: string;
  nextSlice: string;
  window: string;
  lung: string;
  softTissue: string;
  viewerLabel: (k: number, n: number) => string;
  viewerHelp: string;
  imageFailed: string;
  noImages: string;
  download: string;
  // Passing the film on.
  shareTitle: string;
  shareHint: string;
  validFor: string;
  hours24: string;
  days3: string;
  days7: string;
  untilFilmEnds: (date: string) => string;
  allowDownload: string;
  downloadNotAllowed: string;
  pinOptional: string;
  pinRule: string;
  createLink: string;
  creating: string;
  newLink: string;
  newLinkHint: string;
  copyLink: string;
  copied: string;
  qrAlt: string;
  yourLinks: string;
  refreshLinks: string;
  link: string;
  status: string;
  expires: string;
  timesOpened: string;
  thisFilm: string;
  doctorLink: string;
  linkStatus: LinkStatusWords;
  revoke: string;
  revokeLabel: string;
  openingsOf: (kind: string) => string;
  noOpenings: string;
  unknownAddress: string;
  outcomes: OutcomeWords;
  earlierOpenings: (n: number) => string;
  filmValidUntil: (date: string) => string;
}

const en: Messages = {
  title: 'Your CT scan',
  language: 'Language',
  loading: 'Loading…',
  unknownTitle: 'Link not found',
  unknownText:
    'This link is not known. Check that it was copied completely, or ask the hospital for a new one.',
  expiredTitle: 'Link expired',
  expiredText: 'This link has expired and no longer opens the images. Ask the hospital for a new one.',
  revokedTitle: 'Link withdrawn',
  revokedText: 'This link has been withdrawn and no longer opens the images.',
  sessionEndedTitle: 'Viewing ended',
  sessionEndedText: 'Your viewing time has ended. Open the link again to continue.',
  openAgain: 'Open again',
  failed: 'Something went wrong. Please try again.',
  protectedTitle: 'This link is protected',
  pinHint: 'Enter the PIN you were given with the link.',
  birthDateHint: 'Enter your date of birth to open your images.',
  pin: 'PIN',
  birthDate: 'Date of birth',
  open: 'Open',
  wrongSecondFactor: 'That PIN or date of birth is not right.',
  tooManyAttempts: 'Too many attempts; try again later.',
  studyOn: (date) => `Scan of ${date}`,
  report: 'Report',
  notSignedOff: 'Your doctor has not signed the report yet; the images are below.',
  lungRads: (category) => `Lung-RADS ${category}`,
  categoryMeaning: {
    '0': 'Incomplete: more images or comparison are needed.',
    '1': 'No lung nodules needing attention.',
    '2': 'Nodules that are almost certainly benign.',
    '3': 'Probably benign; a short-term check is advised.',
    '4A': 'Suspicious findings: your doctor will discuss further tests.',
    '4B': 'Suspicious findings: your doctor will discuss further tests.',
    '4X': 'Suspicious findings: your doctor will discuss further tests.',
  },
  followUpMonths: (months) => `Next low-dose CT in ${months} ${months === 1 ? 'month' : 'months'}`,
  followUpFurtherTests: 'See your doctor about further tests',
  followUpIncomplete: 'Your doctor will arrange more images or a comparison with earlier scans',
  nodules: 'Nodules',
  noNodules: 'No nodules were reported.',
  noduleTypes: { solid: 'solid', 'part-solid': 'part-solid', 'ground-glass': 'ground-glass' },
  nodule: (n, type, long, short) => `Nodule ${n}: ${type}, ${long} × ${short} mm`,
  keyImageAlt: (n) => `Key image of nodule ${n}`,
  showInImages: (n) => `Show nodule ${n} in the images`,
  secondOpinions: 'Second opinions',
  secondOpinion: (institution, agrees, category) =>
    `Second opinion from ${institution}: ${agrees ? 'agrees' : `disagrees (Lung-RADS ${category})`}`,
  signedOffBy: (who, when) => (who ? `Signed by ${who} on ${when}` : `Signed on ${when}`),
  disclaimer:
    'This summary is to help you read your report. It does not replace talking to your doctor about your results.',
  images: 'Images',
  series: 'Series',
  seriesName: (n, description, count) => `${description ?? `Series ${n}`} (${count} images)`,
  slice: 'Slice',
  sliceOf: (k, n) => `Slice ${k} of ${n}`,
  previousSlice: 'Previous slice',
  nextSlice: 'Next slice',
  window: 'Contrast',
  lung: 'Lung',
  softTissue: 'Soft tissue',
  viewerLabel: (k, n) => `CT image, slice ${k} of ${n}`,
  viewerHelp: 'Drag up or down on the image to move through the slices; pinch to zoom, double-tap to reset.',
  imageFailed: 'This image could not be loaded.',
  noImages: 'There are no images to show.',
  download: 'Download images',
  shareTitle: 'Share with a doctor',
  shareHint: 'Create a link for a doctor to see these images. You can withdraw it at any time.',
  validFor: 'Valid for',
  hours24: '24 hours',
  days3: '3 days',
  days7: '7 days',
  untilFilmEnds: (date) => `Until ${date}`,
  allowDownload: 'Allow download',
  downloadNotAllowed: 'Your film does not allow downloads.',
  pinOptional: 'PIN (optional)',
  pinRule: '4 to 12 digits; tell the doctor separately.',
  createLink: 'Create link',
  creating: 'Creating…',
  newLink: 'New link',
  newLinkHint: 'Send this link to your doctor, or let them scan the QR code.',
  copyLink: 'Copy link',
  copied: 'Copied',
  qrAlt: 'QR code of the link',
  yourLinks: 'Your links',
  refreshLinks: 'Refresh',
  link: 'Link',
  status: 'Status',
  expires: 'Expires',
  timesOpened: 'Times opened',
  thisFilm: 'This film',
  doctorLink: 'Link for a doctor',
  linkStatus: {
    active: 'Active',
    expired: 'Expired',
    revoked: 'Withdrawn',
    'not-yet-valid': 'Not yet valid',
  },
  revoke: 'Revoke',
  revokeLabel: 'Revoke link',
  openingsOf: (kind) => `Openings of: ${kind}`,
  noOpenings: 'Not opened yet.',
  unknownAddress: 'unknown address',
  outcomes: {
    visited: 'viewed the link',
    opened: 'opened the images',
    'wrong-second-factor': 'wrong PIN or date of birth',
    expired: 'tried after it expired',
    revoked: 'tried after it was withdrawn',
    'not-yet-valid': 'tried before it was valid',
  },
  earlierOpenings: (n) => `and ${n} earlier`,
  filmValidUntil: (date) => `This film's link is valid until ${date}.`,
};

const zhCN: Messages = {
  title: '您的 CT 影像',
  language: '语言',
  loading: '正在加载…',
  unknownTitle: '链接无效',
  unknownText: '无法识别此链接。请确认链接已完整复制，或向医院索取新链接。',
  expiredTitle: '链接已过期',
  expiredText: '此链接已过期，无法再查看影像。请向医院索取新链接。',
  revokedTitle: '链接已撤销',
  revokedText: '此链接已被撤销，无法再查看影像。',
  sessionEndedTitle: '查看已结束',
  sessionEndedText: '本次查看时间已结束。请重新打开链接继续查看。',
  openAgain: '重新打开',
  failed: '出现问题，请重试。',
  protectedTitle: '此链接受保护',
  pinHint: '请输入随链接提供给您的 PIN 码。',
  birthDateHint: '请输入您的出生日期以查看影像。',
  pin: 'PIN 码',
  birthDate: '出生日期',
  open: '打开',
  wrongSecondFactor: 'PIN 码或出生日期不正确。',
  tooManyAttempts: '尝试次数过多，请稍后再试。',
  studyOn: (date) => `检查日期：${date}`,
  report: '报告',
  notSignedOff: '医生尚未签发报告；影像见下方。',
  lungRads: (category) => `Lung-RADS ${category} 类`,
  categoryMeaning: {
    '0': '结果不完整：需要补充影像或与既往检查对比。',
    '1': '未发现需要关注的肺结节。',
    '2': '结节几乎可以确定为良性。',
    '3': '可能为良性；建议短期内复查。',
    '4A': '发现可疑病变：医生会与您讨论进一步检查。',
    '4B': '发现可疑病变：医生会与您讨论进一步检查。',
    '4X': '发现可疑病变：医生会与您讨论进一步检查。',
  },
  followUpMonths: (months) => `建议 ${months} 个月后复查低剂量 CT`,
  followUpFurtherTests: '请就进一步检查咨询您的医生',
  followUpIncomplete: '医生会安排补充影像或与既往检查对比',
  nodules: '结节',
  noNodules: '报告中没有结节。',
  noduleTypes: { solid: '实性', 'part-solid': '部分实性', 'ground-glass': '磨玻璃' },
  nodule: (n, type, long, short) => `结节 ${n}：${type}，${long} × ${short} 毫米`,
  keyImageAlt: (n) => `结节 ${n} 的关键图像`,
  showInImages: (n) => `在影像中查看结节 ${n}`,
  secondOpinions: '第二意见',
  secondOpinion: (institution, agrees, category) =>
    `来自 ${institution} 的第二意见：${agrees ? '同意' : `不同意（Lung-RADS ${category} 类）`}`,
  signedOffBy: (who, when) => (who ? `${who} 于 ${when} 签发` : `于 ${when} 签发`),
  disclaimer: '本摘要旨在帮助您阅读报告，不能代替与医生就检查结果进行的交流。',
  images: '影像',
  series: '序列',
  seriesName: (n, description, count) => `${description ?? `序列 ${n}`}（${count} 幅）`,
  slice: '层面',
  sliceOf: (k, n) => `第 ${k} 层，共 ${n} 层`,
  previousSlice: '上一层',
  nextSlice: '下一层',
  window: '对比度',
  lung: '肺窗',
  softTissue: '软组织窗',
  viewerLabel: (k, n) => `CT 图像，第 ${k} 层，共 ${n} 层`,
  viewerHelp: '在图像上上下拖动可逐层浏览；双指缩放，双击复原。',
  imageFailed: '此图像无法加载。',
  noImages: '没有可显示的影像。',
  download: '下载影像',
  shareTitle: '分享给医生',
  shareHint: '创建一个链接，让医生查看这些影像。您可以随时撤销。',
  validFor: '有效期',
  hours24: '24 小时',
  days3: '3 天',
  days7: '7 天',
  untilFilmEnds: (date) => `至 ${date}`,
  allowDownload: '允许下载',
  downloadNotAllowed: '您的影像不允许下载。',
  pinOptional: 'PIN 码（可选）',
  pinRule: '4 至 12 位数字；请另行告知医生。',
  createLink: '创建链接',
  creating: '正在创建…',
  newLink: '新链接',
  newLinkHint: '将此链接发送给医生，或让医生扫描二维码。',
  copyLink: '复制链接',
  copied: '已复制',
  qrAlt: '链接的二维码',
  yourLinks: '您的链接',
  refreshLinks: '刷新',
  link: '链接',
  status: '状态',
  expires: '到期',
  timesOpened: '打开次数',
  thisFilm: '本影像',
  doctorLink: '给医生的链接',
  linkStatus: { active: '有效', expired: '已过期', revoked: '已撤销', 'not-yet-valid': '尚未生效' },
  revoke: '撤销',
  revokeLabel: '撤销链接',
  openingsOf: (kind) => `打开记录：${kind}`,
  noOpenings: '尚未打开。',
  unknownAddress: '地址未知',
  outcomes: {
    visited: '访问了链接',
    opened: '查看了影像',
    'wrong-second-factor': 'PIN 码或出生日期错误',
    expired: '过期后尝试打开',
    revoked: '撤销后尝试打开',
    'not-yet-valid': '生效前尝试打开',
  },
  earlierOpenings: (n) => `及更早的 ${n} 次`,
  filmValidUntil: (date) => `本影像链接有效期至 ${date}。`,
};

export const MESSAGES: Readonly<Record<Locale, Messages>> = { en, 'zh-CN': zhCN };

/** The locale to start with: the one chosen before (localStorage), else the browser's, else English. */
export function initialLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return languages.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}
