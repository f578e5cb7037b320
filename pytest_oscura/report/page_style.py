"""The HTML report's style sheet, inlined into every page (no external resource). Pure.

The filter of the "Needs attention" list is CSS only: four radio buttons before the cards, and
rules that hide the cards without the chosen class, so it works with JavaScript off.
"""

from __future__ import annotations

STYLE = """
:root{--fg:#1f2328;--mut:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--red:#cf222e;--green:#1a7f37;
--blue:#0969da;--amber:#9a6700;--violet:#8250df}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1320px;padding:16px 24px 40px;color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:22px;margin:0}h2{font-size:18px;margin:28px 0 10px;
border-bottom:1px solid var(--line);
padding-bottom:4px}h2 small{font-weight:normal;color:var(--mut);font-size:13px}
h3{font-size:14px;margin:0 0 4px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.sub,.meta,figcaption,footer,.na,.nofig{color:var(--mut);font-size:12.5px}
.sub{margin:2px 0 12px}
.verdict{border:1px solid var(--line);border-left:8px solid var(--green);border-radius:6px;
padding:12px 16px;background:#fff}
.verdict.bad{border-left-color:var(--red)}
.head{display:flex;align-items:baseline;gap:14px}
.big{font-size:26px;font-weight:700;letter-spacing:.5px;color:var(--green)}
.bad .big{color:var(--red)}.why{font-size:15px}
.chips{display:flex;gap:10px;margin:10px 0;flex-wrap:wrap}
.chip{border:1px solid var(--line);border-radius:6px;padding:4px 12px;min-width:84px;
background:var(--bg)}
.chip b{display:block;font-size:18px}.chip span{color:var(--mut);font-size:12px}
.c-failed b,.c-errors b{color:var(--red)}.c-passed b{color:var(--green)}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}
.facts dt{color:var(--mut)}.facts dd{margin:0}
.reasons{color:var(--red);margin:6px 0}.notes{color:var(--mut);margin:6px 0}
.flt{position:absolute;opacity:0;pointer-events:none}
.bar{margin:6px 0 12px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.bar label{border:1px solid var(--line);border-radius:16px;padding:3px 12px;cursor:pointer;
background:#fff;user-select:none}
.bar label b{color:var(--mut);font-weight:600}
#f-all:checked~.bar label[for=f-all],#f-failed:checked~.bar label[for=f-failed],
#f-drift:checked~.bar label[for=f-drift],#f-outlier:checked~.bar label[for=f-outlier]
{background:var(--fg);color:#fff;border-color:var(--fg)}
#f-all:checked~.bar label[for=f-all] b,#f-failed:checked~.bar label[for=f-failed] b,
#f-drift:checked~.bar label[for=f-drift] b,
#f-outlier:checked~.bar label[for=f-outlier] b{color:#fff}
.flt:focus-visible~.bar{outline:2px solid var(--blue);outline-offset:4px}
#f-failed:checked~.cards>.card:not(.failed),#f-drift:checked~.cards>.card:not(.drift),
#f-outlier:checked~.cards>.card:not(.outlier){display:none}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:0 0 14px;
background:#fff}
.card.failed{border-left:5px solid var(--red)}.card.drift{border-left:5px solid var(--amber)}
.card.outlier:not(.failed){border-left:5px solid var(--violet)}
.badge{font-size:11px;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px;
color:#fff;
background:var(--red)}.badge.error{background:#953800}.badge.drift{background:var(--amber)}
.badge.outlier{background:var(--violet)}
.nid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.body{display:grid;grid-template-columns:minmax(0,760px) minmax(360px,1fr);gap:16px;
align-items:start}
@media (max-width:1100px){.body{grid-template-columns:1fr}}
.side{min-width:0;overflow-x:auto}
.card.drift .body{grid-template-columns:minmax(0,958px)}
figure{margin:0}
svg{display:block;max-width:100%;height:auto;
font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
table{border-collapse:collapse;font-size:12.5px;margin:0 0 10px;width:100%}
th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
.fails td,.outl td{font-variant-numeric:tabular-nums;white-space:nowrap}
.fails td:nth-child(5){white-space:normal}td small{display:block;color:var(--mut)}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
pre{background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:6px 8px;
white-space:pre;overflow-x:auto;margin:2px 0 6px}
.accept{margin:4px 0 0}.error{color:#953800;font-family:ui-monospace,Menlo,Consolas,monospace}
.empty{color:var(--green)}
.group figure{border:1px solid var(--line);border-radius:6px;padding:8px;max-width:958px;
background:#fff}
details{margin:8px 0}summary{cursor:pointer;color:var(--blue)}
.all{max-width:958px}.o-failed td:nth-child(2),.o-error td:nth-child(2){color:var(--red);
font-weight:600}
footer{margin-top:32px;border-top:1px solid var(--line);padding-top:8px}
.pa{fill:#fff;stroke:#d1d9e0}.gr{stroke:#eef1f4}.tk,.al{fill:#59636e;font-size:10px}
.al{font-weight:600}.lg{fill:#1f2328;font-size:11px}
.s-now{fill:rgba(9,105,218,.35);stroke:#0969da;stroke-width:.8}
.ln{fill:none;stroke-width:1.3}
.acc{fill:none;stroke:#e16f24;stroke-width:1.1;stroke-opacity:.9}.s-acc{fill:#e16f24}
.accf{fill:rgba(225,111,36,.5);stroke:#e16f24;stroke-width:.6}
.accz{fill:rgba(225,111,36,.25);stroke:#e16f24;stroke-width:.8}
.accz.ln{fill:none;stroke-width:1.1}
.lvl{stroke:#8250df;stroke-width:1.2}.s-lvl{fill:#8250df}
.lt{fill:#8250df;font-size:10.5px}
.ref{stroke:#9a6700;stroke-width:.9;stroke-dasharray:5 3}.s-ref{fill:#9a6700}
.rt{fill:#9a6700;font-size:10px}
.xg{stroke:#1a7f37;stroke-width:1.3}.s-xg{fill:#1a7f37}
.fv{stroke:#cf222e;stroke-width:1.6}.fb{stroke:#cf222e;stroke-width:1.2;stroke-dasharray:6 3}
.ft{fill:#cf222e;font-size:11px;font-weight:600}.ot{fill:#8250df;font-size:11px;font-weight:600}
.ov{stroke:#8250df;stroke-width:1.6}
.ob{stroke:#8250df;stroke-width:1.2;stroke-dasharray:6 3}.s-fail{fill:#cf222e}
.pt{fill:#0969da}.ins{fill:#fff;stroke:#1a7f37;stroke-width:1.6}.s-ins{fill:#1a7f37}
.dim{stroke:#1f2328;stroke-width:1}.dt{fill:#1f2328;font-size:10.5px}
.sp{fill:none;stroke:#0969da;stroke-width:1}.s-sp{fill:#0969da}
.hm{stroke:#cf222e;stroke-width:.8;stroke-dasharray:2 3}.s-hm{fill:#cf222e}
.ht{fill:#cf222e;font-size:10px}
.lt,.ft,.ot,.rt,.dt,.ht{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.hn{fill:#0969da}.s-hn{fill:#0969da}.hb{fill:#8c959f}.s-hb{fill:#8c959f}
.tol{fill:rgba(26,127,55,.13)}.s-tol{fill:rgba(26,127,55,.3)}
.mb{stroke:#1f2328;stroke-width:1.4;stroke-dasharray:3 2}.mn{stroke:#0550ae;stroke-width:2}
.s-mn{fill:#0550ae}.ol{fill:#cf222e;stroke:#fff;stroke-width:1}.s-ol{fill:#cf222e}
.axl{stroke:#59636e;stroke-width:.8}.rowbad{fill:rgba(207,34,46,.07)}
.rn{fill:#1f2328;font-size:12px;font-weight:600}.rs{fill:#59636e;font-size:10px}
.vd{fill:#59636e;font-size:12px;font-weight:600}.vd.ok{fill:#1a7f37}.vd.bad{fill:#cf222e}
"""
