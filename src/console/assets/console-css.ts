/** The console's stylesheet (served at `/_latchkey/console/assets/console.css`). */
export const CONSOLE_CSS = `
:root { --fg: #1d2430; --muted: #5b6575; --bg: #f6f7f9; --card: #fff; --line: #d9dde3;
  --accent: #1f5fbf; --deny: #b42318; --deny-bg: #fdecea; --allow: #137333; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px; }
pre { background: #f0f2f5; padding: 8px 10px; border-radius: 4px; overflow: auto; max-height: 360px; white-space: pre-wrap; word-break: break-word; }
header { display: flex; align-items: center; gap: 18px; padding: 10px 20px; background: #14213d; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; }
header nav { display: flex; gap: 4px; flex: 1; flex-wrap: wrap; }
header nav a { color: #cfd8e6; text-decoration: none; padding: 4px 10px; border-radius: 4px; }
header nav a.active, header nav a:hover { background: #2b3d63; color: #fff; }
header .who { color: #cfd8e6; font-size: 12px; }
header form { margin: 0; }
button.link { background: none; border: 0; color: #fff; text-decoration: underline; cursor: pointer; font: inherit; }
main { padding: 20px; max-width: 1640px; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 16px; margin: 20px 0 8px; }
.muted { color: var(--muted); }
.error { color: var(--deny); background: var(--deny-bg); padding: 8px 10px; border-radius: 4px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
tr.denied td { background: var(--deny-bg); }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.deny { background: var(--deny); color: #fff; }
.badge.allow { background: var(--allow); color: #fff; }
.badge.warn { background: var(--warn); color: #fff; }
.verdict { font-size: 15px; font-weight: 600; padding: 10px 12px; border-radius: 4px; }
.verdict.allowed { background: #e6f4ea; color: var(--allow); }
.verdict.denied { background: var(--deny-bg); color: var(--deny); }
ul.steps li { margin: 2px 0; }
form.query { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin: 8px 0 14px; }
form.query label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
input { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; min-width: 150px; }
button { font: inherit; padding: 6px 14px; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
a.why { color: var(--accent); cursor: pointer; }
.sign-in { max-width: 420px; margin: 60px auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 24px; }
.sign-in form { display: flex; flex-direction: column; gap: 12px; }
.sign-in label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
.graph-wrap { display: flex; gap: 14px; align-items: flex-start; flex-wrap: wrap; }
.graph-canvas { flex: 1 1 700px; overflow: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
.graph-detail { flex: 0 0 320px; min-height: 120px; margin: 0; overflow-wrap: anywhere; }
svg .node rect { fill: #fff; stroke: #8a94a6; stroke-width: 1.2; rx: 6; }
svg .node.serviceAccount rect { fill: #eef4ff; stroke: #1f5fbf; }
svg .node.subjectPattern rect { fill: #fff4e5; stroke: #9a6700; stroke-dasharray: 4 3; }
svg .node.role rect { fill: #f2f0ff; stroke: #5b3cc4; }
svg .node.permission rect { fill: #edf7ee; stroke: #137333; }
svg .node text { font-size: 11.5px; fill: #1d2430; pointer-events: none; }
svg .node { cursor: pointer; }
svg .node.selected rect { stroke-width: 3; }
svg .edge { fill: none; stroke: #8a94a6; stroke-width: 1.4; }
svg .edge.irsa { stroke: #1f5fbf; }
svg .edge.pod-identity { stroke: #5b3cc4; }
svg .edge.association-target, svg .edge.chain { stroke: #c2410c; stroke-dasharray: 6 3; }
svg .edge.allows { stroke: #137333; }
svg .edge.broken { stroke: var(--deny); stroke-dasharray: 2 3; stroke-width: 2; }
svg .dim { opacity: .15; }
svg .col-title { font-size: 12px; font-weight: 600; fill: #5b6575; }
.legend span { margin-right: 14px; font-size: 12px; }
`;
