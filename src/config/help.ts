import { packagePath } from './package-path.js';
import { settings } from './settings.js';

function showDefault(value: unknown): string {
  if (value === undefined || value === '') return '';
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text.replace(packagePath(''), '<package>/');
}

/** The settings as a text table for `--help`. */
export function configHelp(): string {
  const lines = [
    'Configuration (defaults < --config JSON file < environment; the file uses the setting names):',
    '',
  ];
  for (const setting of settings) {
    const choices = setting.choices ? ` One of: ${setting.choices.join(', ')}.` : '';
    const fallback = showDefault(setting.defaultValue);
    lines.push(`  ${setting.path.join('.')}  (${setting.env}, ${setting.type})`);
    lines.push(`      ${setting.description}${choices}${fallback ? ` Default: ${fallback}` : ''}`);
  }
  return lines.join('\n');
}

/** The settings as a Markdown table for the README. */
export function configMarkdown(): string {
  const rows = settings.map((setting) => {
    const choices = setting.choices ? ` One of: ${setting.choices.map((c) => `\`${c}\``).join(', ')}.` : '';
    const fallback = showDefault(setting.defaultValue);
    return `| \`${setting.path.join('.')}\` | \`${setting.env}\` | ${setting.type} | ${fallback ? `\`${fallback}\`` : ''} | ${setting.description}${choices} |`;
  });
  return [
    '| setting | environment | type | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
