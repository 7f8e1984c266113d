/** The workspace's words in English and Simplified Chinese; the browser's language picks, a switch overrides. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

const en = {
  title: 'nodus workspace',
  token: 'Token',
  signIn: 'Sign in',
  signOut: 'Sign out',
  signInHint: 'Paste your bearer token (nodus token create). The browser keeps a session, not the token.',
  signInFailed: 'Sign-in failed: the token is unknown, expired or revoked.',
  sessionEnded: 'Your session has ended. Sign in again.',
  worklist: 'Worklist',
  status: 'Status',
  category: 'Lung-RADS',
  institution: 'Institution',
  from: 'From',
  to: 'To',
  any: 'Any',
  apply: 'Apply filters',
  patient: 'Patient',
  studyDate: 'Study date',
  aiCategory: 'AI Lung-RADS',
  finalCategory: 'Final Lung-RADS',
  nodules: 'Nodules',
  waiting: 'Waiting',
  open: 'Open',
  openInOhif: 'Open in OHIF',
  next: 'Next page',
  first: 'First page',
  empty: 'No study matches.',
  updated: 'Updated',
  language: 'Language',
} as const;

export type Messages = Record<keyof typeof en, string>;

const zhCN: Messages = {
  title: 'nodus 阅片工作台',
  token: '令牌',
  signIn: '登录',
  signOut: '退出登录',
  signInHint: '粘贴您的访问令牌（nodus token create）。浏览器只保存会话，不保存令牌。',
  signInFailed: '登录失败：令牌无效、已过期或已撤销。',
  sessionEnded: '会话已结束，请重新登录。',
  worklist: '工作列表',
  status: '状态',
  category: 'Lung-RADS',
  institution: '机构',
  from: '起始日期',
  to: '截止日期',
  any: '全部',
  apply: '筛选',
  patient: '患者',
  studyDate: '检查日期',
  aiCategory: 'AI Lung-RADS',
  finalCategory: '最终 Lung-RADS',
  nodules: '结节数',
  waiting: '等待时间',
  open: '打开',
  openInOhif: '在 OHIF 中打开',
  next: '下一页',
  first: '第一页',
  empty: '没有符合条件的检查。',
  updated: '更新于',
  language: '语言',
};

export const MESSAGES: Readonly<Record<Locale, Messages>> = { en, 'zh-CN': zhCN };

/** The locale to start with: the one chosen before (localStorage), else the browser's, else English. */
export function initialLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === 'en' || stored === 'zh-CN') return stored;
  return languages.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}
