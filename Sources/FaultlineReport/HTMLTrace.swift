import FaultlineLanguage
import FaultlineMachine
import FaultlineExplore

/// The trace viewer (`--html FILE`): one self-contained page (inline CSS and JS, no network)
/// with a lane per CPU and a row per step, a source pane that follows the selected step
/// through the race file and its headers, and a memory pane drawing the page tables at that
/// step as a tree (entries as the model's formatters read them, freed tables, lock holders).
/// The violating step is highlighted; the arrow keys step.
package enum HTMLTrace {
    /// What the page shows for one violation.
    package struct Violation: Codable, Sendable {
        package var title: String
        package var message: String
        package var replay: String
        package var threads: Int
        /// The RCU callback thread's lane (headed `P<n> rcu`, as the text trace's column), if any.
        package var rcuThread: Int?
        package var steps: [Schema.Step]
        /// Memory after each step.
        package var memory: [Memory]
    }

    /// Memory at one step: page tables (objects whose entries have a formatter) and locks.
    package struct Memory: Codable, Sendable {
        package var tables: [Table]
        package var locks: [Lock]
    }

    package struct Table: Codable, Sendable {
        package var name: String
        package var type: String
        package var freed: Bool
        /// Not an entry of another table: drawn at the top of a tree.
        package var root: Bool
        package var entries: [Entry]
    }

    package struct Entry: Codable, Sendable {
        package var index: Int
        package var text: String
        /// The table this entry points to, if it is one.
        package var child: String?
    }

    package struct Lock: Codable, Sendable {
        package var name: String
        package var holder: String
    }

    package struct Page: Codable, Sendable {
        package var schema = Schema.version
        package var title: String
        package var violations: [Violation]
        /// Every source file a step is in, by path, as lines.
        package var sources: [String: [String]]
    }

    /// One report's share of a page: its violations and the source files their steps are in.
    package typealias Part = (violations: [Violation], sources: [String: [String]])

    /// The memory pane's data for one state.
    package static func memory(_ n: Namer) -> Memory {
        let s = n.state
        var tables: [Table] = []
        var children: Set<String> = []
        var locks: [Lock] = []
        for o in 1..<s.objects.count {
            let m = s.objects[o]
            guard m.size > 0 else { continue }
            let table = n.hasFormattedCells(o)
            var entries: [Entry] = []
            var entryType: String? = nil
            for off in 0..<Int(m.size) {
                let a = Address.make(object: o, offset: off)
                let c = n.cell(a)
                guard let t = c.type else { continue }
                if table, let formatter = n.formatterName(t) {
                    entryType = formatter
                    let v = s.cells[Int(m.base) + off]
                    let (text, pointees) = n.formatted(v, type: t)
                    let child = pointees.first { p in p != o && n.hasFormattedCells(p) }
                    if let c = child { children.insert(n.objectName(c)) }
                    entries.append(Entry(index: off, text: text, child: child.map(n.objectName)))
                } else if n.isLock(t) {
                    let v = s.cells[Int(m.base) + off]
                    if let h = n.lockHolder(t, v) { locks.append(Lock(name: c.name, holder: h)) }
                }
            }
            if let type = entryType {
                tables.append(Table(name: n.objectName(o), type: type, freed: m.freed, root: false, entries: entries))
            }
        }
        for i in tables.indices { tables[i].root = !children.contains(tables[i].name) }
        return Memory(tables: tables, locks: locks)
    }

    /// A report's violations for the page (their traces replayed again, keeping the states),
    /// with the source files their steps are in.
    package static func violations(_ report: RunReport, context: ExplorationContext) -> Part {
        var out: [Violation] = []
        var files: [String: SourceFile] = [:]
        let config = report.defines.isEmpty ? "" : " [" + report.defines.map(\.description).joined(separator: " ") + "]"
        for (i, v) in report.violations.enumerated() {
            let steps: [TraceStep], memory: [Memory]
            if i < report.result.violations.count {
                guard let rec = try? TraceRenderer.record(context, schedule: report.result.violations[i].schedule, keepStates: true) else { continue }
                steps = v.steps.isEmpty ? rec.steps : v.steps
                memory = (0..<steps.count).map { k in
                    HTMLTrace.memory(Namer(machine: context.machine, state: rec.states[max(0, min(k, rec.states.count - 1))]))
                }
            } else {
                // An LKMM data race: its pair of accesses, no interleaving, so no memory after each step.
                steps = v.steps
                memory = steps.map { _ in Memory(tables: [], locks: []) }
            }
            for s in steps { for fr in s.frames { if let file = fr.location.file { files[file.path] = file } } }
            out.append(Violation(title: "\(report.program.name)\(config) — violation \(i + 1): \(v.kind.rawValue) at \(v.location)",
                                 message: v.message, replay: v.replayCommand, threads: report.program.threadCount,
                                 rcuThread: report.program.rcuCallbackThread, steps: steps.map(\.document), memory: memory))
        }
        var sources: [String: [String]] = [:]
        for (path, f) in files { sources[path] = f.lines.map { String($0) } }
        return (out, sources)
    }

    /// The page for several reports' violations (a list to choose from).
    package static func page(title: String, _ parts: [Part]) -> String {
        var sources: [String: [String]] = [:]
        for (_, s) in parts { sources.merge(s) { a, _ in a } }
        return document(Page(title: title, violations: parts.flatMap(\.0), sources: sources))
    }

    /// The HTML around the data.
    static func document(_ page: Page) -> String {
        // `</` cannot end the script early: the data is JSON with `<` escaped.
        let data = Schema.encode(page).split(separator: "<", omittingEmptySubsequences: false).joined(separator: "\\u003c")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escape(page.title)) — faultline trace</title>
        <style>\(css)</style></head>
        <body data-step="0">
        <header><h1 id="title"></h1><select id="violation"></select><p id="message"></p><code id="replay"></code>
        <p class="help">↑/↓ (or ←/→) step · click a row · click a frame to see its line</p></header>
        <main><section id="lanes"></section>
        <aside><section id="source"><div id="stack"></div><h2 id="file"></h2><pre id="code"></pre></section>
        <section id="memory"><h2>Memory after step <span id="memstep"></span></h2><div id="tables"></div><h3>Locks held</h3><ul id="locks"></ul></section></aside></main>
        <script>const DATA = \(data);</script>
        <script>\(js)</script>
        </body></html>

        """
    }

    static func escape(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c { case "<": o += "&lt;"; case ">": o += "&gt;"; case "&": o += "&amp;"; case "\"": o += "&quot;"; default: o.append(c) }
        }
        return o
    }

    static let css = """
    body{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0;color:#222;background:#fafafa}
    header{padding:8px 14px;background:#263238;color:#eceff1}header h1{font-size:15px;margin:0 0 4px}
    header select{font:inherit}#message{margin:4px 0;color:#ffcc80}#replay{color:#b0bec5;font-size:11px}
    .help{margin:2px 0 0;color:#90a4ae;font-size:11px}
    main{display:grid;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);height:calc(100vh - 110px)}
    #lanes{overflow:auto;border-right:1px solid #ccc}aside{display:grid;grid-template-rows:1fr 1fr;min-height:0}
    aside section{overflow:auto;padding:6px 10px;border-bottom:1px solid #ccc}
    table{border-collapse:collapse;width:100%}th{position:sticky;top:0;background:#eceff1;text-align:left;padding:3px 6px}
    td{vertical-align:top;padding:3px 6px;border-bottom:1px solid #eee;max-width:28em;overflow-wrap:anywhere}
    td.n{color:#888;text-align:right;width:3em}tr.step{cursor:pointer}tr.selected td{background:#fff3c4}
    tr.violation td.cpu{background:#ffcdd2}tr.violation.selected td.cpu{background:#ef9a9a}
    .site{color:#1565c0}.fn{color:#6a1b9a}.src{color:#333}.eff{color:#2e7d32}.viol{color:#c62828;font-weight:bold}
    #code{margin:0}#code span{display:block;white-space:pre}#code .hl{background:#fff3c4}#code .ln{color:#999;display:inline-block;width:4em}
    #stack a{color:#1565c0;cursor:pointer;margin-right:6px}h2,h3{font-size:13px;margin:4px 0}
    ul.tree{list-style:none;padding-left:16px;margin:2px 0}li.table>b{color:#4527a0}li.freed>b{color:#c62828;text-decoration:line-through}
    .tag{font-size:10px;border-radius:3px;padding:0 4px;margin-left:4px;background:#ffcdd2;color:#b71c1c}
    .entry.none{color:#aaa}.entry .k{color:#888}
    """

    static let js = """
    (function(){
    const $=id=>document.getElementById(id);let v=0,step=0,shownFrame=null;
    function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
    function site(l){return l.file.split('/').pop()+':'+l.line;}
    function lanes(){const V=DATA.violations[v];let h='<table><tr><th>#</th>';
      for(let t=0;t<V.threads;t++)h+='<th>P'+t+(t===V.rcuThread?' rcu':'')+'</th>';h+='</tr>';
      V.steps.forEach((s,i)=>{h+='<tr class="step'+(s.violation?' violation':'')+'" data-i="'+i+'"><td class="n">'+s.step+'</td>';
        for(let t=0;t<V.threads;t++){if(t!==s.thread){h+='<td></td>';continue;}
          h+='<td class="cpu"><span class="site">'+esc(site(s.shown))+'</span> <span class="fn">'+esc(s.function)+'()</span><br>'+
             '<span class="src">'+esc(s.source)+'</span><br><span class="eff">'+esc(s.effect)+'</span>'+
             (s.violation?'<br><span class="viol">✗ '+esc(s.violation)+'</span>':'')+'</td>';}
        h+='</tr>';});
      $('lanes').innerHTML=h+'</table>';
      document.querySelectorAll('tr.step').forEach(r=>r.onclick=()=>select(+r.dataset.i));}
    function source(loc){const lines=DATA.sources[loc.file]||[];$('file').textContent=loc.file+':'+loc.line;
      let h='';const from=Math.max(1,loc.line-12),to=Math.min(lines.length,loc.line+12);
      for(let n=from;n<=to;n++)h+='<span'+(n===loc.line?' class="hl" id="hl"':'')+'><span class="ln">'+n+'</span>'+esc(lines[n-1])+'</span>';
      $('code').innerHTML=h;}
    function tree(mem){const byName={};mem.tables.forEach(t=>byName[t.name]=t);const seen={};
      function draw(t){if(seen[t.name])return '<li class="table"><b>'+esc(t.name)+'</b> (above)</li>';seen[t.name]=1;
        let h='<li class="table'+(t.freed?' freed':'')+'" data-table="'+esc(t.name)+'"><b>'+esc(t.name)+'</b> <span class="k">'+esc(t.type)+'</span>'+(t.freed?'<span class="tag">freed</span>':'')+'<ul class="tree">';
        t.entries.forEach(e=>{h+='<li class="entry'+(e.text==='none'?' none':'')+'"><span class="k">['+e.index+']</span> '+esc(e.text);
          if(e.child&&byName[e.child])h+='<ul class="tree">'+draw(byName[e.child])+'</ul>';h+='</li>';});
        return h+'</ul></li>';}
      let h='<ul class="tree">';mem.tables.filter(t=>t.root).forEach(t=>h+=draw(t));
      mem.tables.filter(t=>!seen[t.name]).forEach(t=>h+=draw(t));$('tables').innerHTML=h+'</ul>';
      $('locks').innerHTML=mem.locks.length?mem.locks.map(l=>'<li>'+esc(l.name)+' — held by '+esc(l.holder)+'</li>').join(''):'<li>none</li>';}
    function select(i){const V=DATA.violations[v];if(!V.steps.length)return;step=Math.max(0,Math.min(V.steps.length-1,i));
      document.body.dataset.step=V.steps[step].step;
      document.querySelectorAll('tr.step').forEach(r=>r.classList.toggle('selected',+r.dataset.i===step));
      const s=V.steps[step];$('stack').innerHTML=s.stack.map((f,k)=>'<a data-k="'+k+'">'+esc(f.function)+'() '+esc(site(f.location))+'</a>').join('› ');
      document.querySelectorAll('#stack a').forEach(a=>a.onclick=()=>source(s.stack[+a.dataset.k].location));
      source(s.shown);$('memstep').textContent=s.step;tree(V.memory[step]);
      const row=document.querySelector('tr.selected');if(row&&row.scrollIntoView)row.scrollIntoView({block:'nearest'});
      const hl=$('hl');if(hl&&hl.scrollIntoView)hl.scrollIntoView({block:'nearest'});}
    function show(k){v=k;const V=DATA.violations[v];$('message').textContent=V.message;$('replay').textContent=V.replay;lanes();
      const bad=V.steps.findIndex(s=>s.violation);select(bad>=0?bad:0);}
    $('title').textContent=DATA.title;
    $('violation').innerHTML=DATA.violations.map((x,k)=>'<option value="'+k+'">'+esc(x.title)+'</option>').join('');
    $('violation').onchange=e=>show(+e.target.value);
    document.addEventListener('keydown',e=>{if(e.key==='ArrowDown'||e.key==='ArrowRight'){select(step+1);e.preventDefault();}
      if(e.key==='ArrowUp'||e.key==='ArrowLeft'){select(step-1);e.preventDefault();}});
    if(DATA.violations.length)show(0);else{$('violation').hidden=true;$('message').textContent='No violations: nothing to step through.';}
    const m=/keys=([-0-9]+)/.exec(location.hash);if(m){const n=+m[1];select(0);
      for(let k=0;k<Math.abs(n);k++)document.dispatchEvent(new KeyboardEvent('keydown',{key:n<0?'ArrowUp':'ArrowDown'}));}
    })();
    """
}

extension HTMLTrace {
    /// A replayed schedule that violates nothing: its trace as one "violation" entry.
    package static func replay(_ ctx: ExplorationContext, schedule: [Int], path: String) -> Part {
        guard let rec = try? TraceRenderer.record(ctx, schedule: schedule, keepStates: true) else { return ([], [:]) }
        var files: [String: [String]] = [:]
        for s in rec.steps { for fr in s.frames { if let f = fr.location.file { files[f.path] = f.lines.map { String($0) } } } }
        let memory = rec.states.map { HTMLTrace.memory(Namer(machine: ctx.machine, state: $0)) }
        return ([Violation(title: "\(path): replayed schedule (no violation)", message: "", replay: "", threads: ctx.machine.program.threadCount,
                           rcuThread: ctx.machine.program.rcuCallbackThread, steps: rec.steps.map(\.document), memory: memory)], files)
    }
}
