/** The consoles' one stylesheet, inlined under the page's CSP nonce (no external request, no inline style attribute). */
export const CONSOLE_CSS = `
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#f6f7f9;--card:#fff;--accent:#2b59c3;--peak:#d9822b;--off:#2b59c3;--bad:#b42318;--ok:#067647}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:9}
header.top{display:flex;align-items:center;gap:24px;padding:10px 24px;background:#101828;color:#fff}
header.top .brand{font-weight:700;letter-spacing:.02em}header.top nav{white-space:nowrap}header.top nav a{color:#d0d5dd;margin-right:16px;text-decoration:none}
header.top nav a[aria-current=page]{color:#fff;border-bottom:2px solid #f5b400}header.top .who{margin-left:auto;display:flex;gap:12px;align-items:center;color:#d0d5dd;min-width:0}header.top .who span{max-width:320px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}button{white-space:nowrap}
main{max-width:1100px;margin:24px auto;padding:0 24px}h1{font-size:1.5rem;margin:0 0 16px}h2{font-size:1.15rem;margin:24px 0 8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px}.stat .v{font-size:1.35rem;font-weight:600}.stat .l{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;width:100%;background:var(--card)}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);font-variant-numeric:tabular-nums}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}td.n,th.n{text-align:right}
form.inline{display:inline}label{display:block;font-weight:600;margin:8px 0 4px}.hint{color:var(--muted);font-size:.85rem;font-weight:400}
input,select,textarea{font:inherit;padding:6px 8px;border:1px solid #98a2b3;border-radius:6px;background:#fff;min-width:220px}textarea{width:100%;min-height:80px}
input[type=radio],input[type=checkbox]{min-width:0;margin-right:6px}input[type=range]{min-width:0;width:100%}input[type=file]{border:0;padding:0}
fieldset{border:1px solid var(--line);border-radius:6px;margin:12px 0}legend{font-weight:600;padding:0 6px}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
.row{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-end}.flash{padding:10px 14px;border-radius:6px;margin-bottom:16px;border:1px solid}
.flash.ok{background:#ecfdf3;border-color:#abefc6;color:var(--ok)}.flash.err{background:#fef3f2;border-color:#fecdca;color:var(--bad)}
.secret{font-family:ui-monospace,monospace;background:#101828;color:#f5b400;padding:8px 12px;border-radius:6px;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8rem;border:1px solid var(--line)}.badge.bad{color:var(--bad);border-color:var(--bad)}.badge.ok{color:var(--ok);border-color:var(--ok)}
.chart svg{width:100%;height:auto}.chart .peak{fill:var(--peak)}.chart .off{fill:var(--off)}.chart text{font-size:11px;fill:var(--muted)}.chart .axis{stroke:var(--line)}
.legend span{margin-right:16px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}.legend .peak{background:var(--peak)}.legend .off{background:var(--off)}
.chart .s0,.legend .s0{fill:#2b59c3;background:#2b59c3}.chart .s1,.legend .s1{fill:#d9822b;background:#d9822b}.chart .s2,.legend .s2{fill:#067647;background:#067647}.chart .s3,.legend .s3{fill:#7a5af8;background:#7a5af8}
.signin{max-width:420px;margin:80px auto}.muted{color:var(--muted)}code{font-family:ui-monospace,monospace;font-size:.9em}
`;
