// heapdrift's report page: draws the data document (the JSON block above,
// written by export/html_report.cc) into SVG charts and icicle flame graphs.
// Plain DOM, no library: the page must open from a file with no network.
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var errors = 0;
  window.addEventListener('error', function (event) {
    errors += 1;
    document.body.dataset.jsErrors = String(errors);
    var note = document.getElementById('errors') || document.body.appendChild(
      element('p', {id: 'errors', 'class': 'errors', role: 'alert'}));
    note.textContent = 'This page failed to draw part of the report: ' + event.message;
  });

  // --- small helpers ---------------------------------------------------------
  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    setAll(node, attributes);
    append(node, children);
    return node;
  }
  function svg(tag, attributes, children) {
    var node = document.createElementNS(SVG, tag);
    setAll(node, attributes);
    append(node, children);
    return node;
  }
  function setAll(node, attributes) {
    for (var name in attributes || {}) {
      if (attributes[name] !== undefined && attributes[name] !== null) {
        node.setAttribute(name, attributes[name]);
      }
    }
  }
  function append(node, children) {
    if (children === undefined || children === null) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === undefined || child === null) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
  }
  var uniqueId = 0;
  function newId(prefix) { uniqueId += 1; return prefix + '-' + uniqueId; }

  // As the text report writes them (export/format.cc HumanBytes).
  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  function humanBytes(bytes) {
    var magnitude = Math.abs(bytes), unit = 0;
    while (magnitude >= 1024 && unit < 4) { magnitude /= 1024; bytes /= 1024; unit += 1; }
    return unit === 0 ? bytes.toFixed(0) + ' B' : bytes.toFixed(1) + ' ' + UNITS[unit];
  }
  function humanSeconds(seconds) {
    if (Math.abs(seconds) < 120) return (+seconds.toFixed(1)) + ' s';
    if (Math.abs(seconds) < 7200) return (+(seconds / 60).toFixed(1)) + ' min';
    return (+(seconds / 3600).toFixed(1)) + ' h';
  }
  function percent(share) { return (100 * share).toFixed(1) + ' %'; }

  // Ticks at 1, 2 or 5 times a power of ten of the unit the largest value is
  // shown in, so the labels stay short.
  function byteTicks(maximum) {
    if (!(maximum > 0)) return {step: 1, unit: 0};
    var unit = 0;
    while (maximum / Math.pow(1024, unit) >= 1024 && unit < 4) unit += 1;
    var scale = Math.pow(1024, unit), raw = maximum / scale / 4;
    var power = Math.pow(10, Math.floor(Math.log10(raw))), step = power;
    [1, 2, 5, 10].forEach(function (m) { if (m * power <= raw * 1.0001) step = m * power; });
    if (step * 4 < raw) step *= 2;
    return {step: Math.max(step * scale, 1), unit: unit};
  }
  function timeStep(span) {
    var steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
      10800, 21600, 43200, 86400];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= 8) return steps[i];
    return steps[steps.length - 1];
  }

  // --- line charts -------------------------------------------------------------
  // series: [{key, name, values}] over `times`; every path carries
  // data-series and data-points (the number of points drawn).
  function lineChart(options) {
    var width = 960, height = options.height || 220, left = 76, right = 16, top = 12, bottom = 30;
    var times = options.times, series = options.series;
    var maximum = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { maximum = Math.max(maximum, v); }); });
    var ticks = byteTicks(maximum);
    var yMax = Math.max(ticks.step, Math.ceil(maximum / ticks.step) * ticks.step);
    var t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
    if (t1 <= t0) t1 = t0 + 1;
    function x(t) { return left + (t - t0) / (t1 - t0) * (width - left - right); }
    function y(v) { return top + (1 - v / yMax) * (height - top - bottom); }
    var titleId = newId('chart-title'), descId = newId('chart-desc');
    var chart = svg('svg', {'class': 'chart', viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-labelledby': titleId + ' ' + descId, tabindex: '0', 'data-chart': options.id});
    chart.appendChild(svg('title', {id: titleId}, options.title));
    chart.appendChild(svg('desc', {id: descId}, options.description));
    for (var v = 0; v <= yMax + 1e-9; v += ticks.step) {
      chart.appendChild(svg('line', {'class': 'axis', x1: left, x2: width - right, y1: y(v), y2: y(v)}));
      chart.appendChild(svg('text', {'class': 'axis-label', x: left - 6, y: y(v) + 4,
        'text-anchor': 'end'}, humanBytes(v)));
    }
    var step = timeStep(t1 - t0);
    for (var t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
      chart.appendChild(svg('line', {'class': 'axis', x1: x(t), x2: x(t), y1: height - bottom,
        y2: height - bottom + 4}));
      chart.appendChild(svg('text', {'class': 'axis-label', x: x(t), y: height - bottom + 16,
        'text-anchor': 'middle'}, humanSeconds(t)));
    }
    series.forEach(function (s) {
      var d = s.values.map(function (value, i) {
        return (i === 0 ? 'M' : 'L') + x(times[i]).toFixed(1) + ' ' + y(value).toFixed(1);
      }).join(' ');
      chart.appendChild(svg('path', {'class': 'series ' + s.key, 'data-series': s.key,
        'data-points': s.values.length, d: d}));
      if (s.values.length === 1) {
        chart.appendChild(svg('circle', {'class': 'series ' + s.key, cx: x(times[0]),
          cy: y(s.values[0]), r: 3}));
      }
    });
    var cursor = svg('line', {'class': 'cursor', y1: top, y2: height - bottom, visibility: 'hidden'});
    chart.appendChild(cursor);
    var overlay = svg('rect', {x: left, y: top, width: width - left - right,
      height: height - top - bottom, fill: 'transparent'});
    chart.appendChild(overlay);

    var tip = element('div', {'class': 'tip', 'aria-hidden': 'true'});
    var shown = -1;
    function show(index) {
      if (!times.length) return;
      shown = Math.max(0, Math.min(times.length - 1, index));
      cursor.setAttribute('x1', x(times[shown]));
      cursor.setAttribute('x2', x(times[shown]));
      cursor.setAttribute('visibility', 'visible');
      tip.textContent = humanSeconds(times[shown]) + series.map(function (s) {
        return '\n' + s.name + ': ' + humanBytes(s.values[shown]);
      }).join('');
      var box = chart.getBoundingClientRect(), scale = box.width / width;
      var px = x(times[shown]) * scale;
      tip.style.display = 'block';
      tip.style.left = (px > box.width / 2 ? px - tip.offsetWidth - 10 : px + 10) + 'px';
      tip.style.top = (top * scale + 4) + 'px';
    }
    function hide() { cursor.setAttribute('visibility', 'hidden'); tip.style.display = 'none'; }
    function nearest(clientX) {
      var box = chart.getBoundingClientRect();
      var t = t0 + ((clientX - box.left) / box.width * width - left) / (width - left - right) * (t1 - t0);
      var best = 0;
      times.forEach(function (time, i) { if (Math.abs(time - t) < Math.abs(times[best] - t)) best = i; });
      return best;
    }
    chart.addEventListener('mousemove', function (event) { show(nearest(event.clientX)); });
    chart.addEventListener('mouseleave', hide);
    chart.addEventListener('blur', hide);
    chart.addEventListener('keydown', function (event) {
      if (event.key === 'ArrowRight') show(shown + 1);
      else if (event.key === 'ArrowLeft') show(shown < 0 ? times.length - 1 : shown - 1);
      else return;
      event.preventDefault();
    });

    var legend = element('figcaption', null, series.map(function (s) {
      return element('span', null, [element('span', {'class': 'swatch ' + s.key}), s.name]);
    }));
    return element('figure', null, [chart, tip, legend, numbersTable(times, series)]);
  }

  // The numbers behind a chart, for screen readers and for copying.
  function numbersTable(times, series) {
    var head = element('tr', null, [element('th', {scope: 'col'}, 'time')].concat(
      series.map(function (s) { return element('th', {scope: 'col'}, s.name); })));
    var rows = times.map(function (t, i) {
      return element('tr', null, [element('td', null, humanSeconds(t))].concat(
        series.map(function (s) { return element('td', null, humanBytes(s.values[i])); })));
    });
    return element('details', null, [element('summary', null, 'The numbers (' + times.length +
      ' points)'), element('table', null, [element('thead', null, head),
      element('tbody', null, rows)])]);
  }

  // --- icicle flame graphs -------------------------------------------------
  // A tree of frames, outermost at the top; a node's width is its bytes.
  function buildTree(flame, valueOf, restValue, leftOut) {
    var root = {name: 'all', title: 'every stack', value: 0, children: new Map(), depth: 0};
    flame.paths.forEach(function (path, p) {
      var value = valueOf(p);
      if (!(value > 0)) return;
      root.value += value;
      var node = root;
      path.forEach(function (frame) {
        var child = node.children.get(frame);
        if (!child) {
          child = {name: flame.frames[frame][0], title: flame.frames[frame][1], value: 0,
            children: new Map(), parent: node, depth: node.depth + 1};
          node.children.set(frame, child);
        }
        child.value += value;
        node = child;
      });
    });
    if (restValue > 0) {
      root.value += restValue;
      root.children.set(-1, {name: '(' + leftOut + ' smaller stacks)', title: 'the stacks left out, summed',
        value: restValue, children: new Map(), parent: root, depth: 1});
    }
    return root;
  }

  function hue(name) {
    var hash = 0;
    for (var i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
    return hash;
  }

  // Draws `root` into `holder`; click (or Enter) zooms to a frame, the search
  // box marks frames whose name or location holds its text.
  function flameGraph(holder, root, kind, label) {
    var width = 1000, row = 18, zoomed = root, query = '';
    var status = element('p', {'class': 'muted', 'aria-live': 'polite'});
    var search = element('input', {type: 'search', placeholder: 'function or file',
      'aria-label': 'Search the ' + label + ' by function or file'});
    var reset = element('button', {type: 'button'}, 'Reset zoom');
    var picture = element('div');
    holder.replaceChildren(element('div', {'class': 'flame-tools'}, [
      element('label', null, ['Search ', search]), reset]), picture, status);
    function depthOf(node) {
      var deepest = node.depth;
      node.children.forEach(function (child) { deepest = Math.max(deepest, depthOf(child)); });
      return deepest;
    }
    function matches(node) {
      return query !== '' && (node.name.toLowerCase().indexOf(query) >= 0 ||
        node.title.toLowerCase().indexOf(query) >= 0);
    }
    // Bytes in frames that match, counting a match inside a match once.
    function matchedBytes(n) {
      if (matches(n)) return n.value;
      var sum = 0;
      n.children.forEach(function (child) { sum += matchedBytes(child); });
      return sum;
    }
    function draw() {
      // The zoomed frame's ancestors above it, full width and dimmed.
      var chain = [];
      for (var up = zoomed.parent; up; up = up.parent) chain.unshift(up);
      var rows = chain.length + depthOf(zoomed) - zoomed.depth + 1;
      var chart = svg('svg', {'class': 'flame', 'data-flame': kind, role: 'group',
        'aria-label': label, viewBox: '0 0 ' + width + ' ' + (rows * row)});
      function frame(n, x, w, level, ancestor) {
        var pct = root.value > 0 ? n.value / root.value : 0;
        var shade = Math.abs(hue(n.name));
        // Warm colours for the live heap, reds for growth; a name keeps its shade.
        var colour = kind === 'growth'
          ? 'hsl(' + (350 + shade % 20) % 360 + ', 75%, ' + (60 + shade % 12) + '%)'
          : 'hsl(' + (20 + shade % 35) + ', 85%, ' + (60 + shade % 10) + '%)';
        var g = svg('g', {'class': 'frame' + (ancestor ? ' ancestor' : '') + (matches(n) ? ' match' : ''),
          'data-name': n.name, tabindex: w >= 30 ? '0' : '-1', role: 'button',
          'aria-label': n.name + ': ' + humanBytes(n.value) + ' (' + percent(pct) + ')'}, [
          svg('rect', {x: x.toFixed(2), y: level * row, width: w.toFixed(2), height: row - 1, fill: colour}),
          svg('title', null, n.title + '\n' + humanBytes(n.value) + ' (' + percent(pct) + ' of ' +
            humanBytes(root.value) + ')')]);
        if (w > 40) {
          var chars = Math.floor((w - 6) / 6.6);
          var text = n.name.length > chars ? n.name.slice(0, Math.max(chars - 1, 1)) + '\u2026' : n.name;
          g.appendChild(svg('text', {x: (x + 3).toFixed(2), y: level * row + 13}, text));
        }
        function zoom() { zoomed = n === zoomed && n.parent ? n.parent : n; draw(); }
        g.addEventListener('click', zoom);
        g.addEventListener('keydown', function (event) {
          if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); zoom(); }
        });
        chart.appendChild(g);
      }
      function subtree(n, x, w, level) {
        if (w < 0.5) return;  // narrower than a pixel: not drawn (its bytes are in its parent)
        frame(n, x, w, level, false);
        var offset = x;
        Array.from(n.children.values()).sort(function (a, b) { return b.value - a.value; })
          .forEach(function (child) {
            var share = n.value > 0 ? child.value / n.value * w : 0;
            subtree(child, offset, share, level + 1);
            offset += share;
          });
      }
      chain.forEach(function (ancestor, level) { frame(ancestor, 0, width, level, true); });
      subtree(zoomed, 0, width, chain.length);
      picture.replaceChildren(chart);
      var matched = query ? matchedBytes(root) : 0;
      status.textContent = (zoomed === root ? '' : 'Zoomed to ' + zoomed.name + ' (' +
        humanBytes(zoomed.value) + '). ') + (query ? 'Matching "' + query + '": ' +
        humanBytes(matched) + ' (' + percent(root.value > 0 ? matched / root.value : 0) + ').' : '');
    }
    search.addEventListener('input', function () { query = search.value.trim().toLowerCase(); draw(); });
    reset.addEventListener('click', function () { zoomed = root; draw(); });
    draw();
  }

  function liveFlame(flame) {
    var holder = element('div', {'class': 'flame-holder'});
    var last = flame.times.length - 1;
    if (last < 0) return element('p', null, 'No snapshot: nothing to draw.');
    var root = buildTree(flame, function (p) { return flame.live[last][p]; }, flame.rest[last],
      flame.left_out);
    var caption = element('p', {'class': 'muted'}, 'Live heap at ' + humanSeconds(flame.times[last]) +
      ': ' + humanBytes(root.value) + ' by stack, outermost frame at the top, the allocating call ' +
      'site at the bottom of each column. Click a frame to zoom.');
    if (root.value <= 0) return element('p', null, 'Nothing live at the last snapshot.');
    flameGraph(holder, root, 'live', 'Flame graph of the live heap');
    return element('div', null, [caption, holder]);
  }

  function growthFlame(flame) {
    var holder = element('div', {'class': 'flame-holder'});
    var caption = element('p', {'class': 'muted', 'aria-live': 'polite'});
    if (flame.times.length < 2) {
      return element('p', null, 'One snapshot or none: no growth between two moments to draw.');
    }
    function picker(text, selected) {
      var select = element('select', {'aria-label': text});
      flame.times.forEach(function (t, i) {
        var option = element('option', {value: i}, humanSeconds(t));
        if (i === selected) option.selected = true;
        select.appendChild(option);
      });
      return select;
    }
    var from = picker('From the snapshot at', 0), to = picker('to the snapshot at', flame.times.length - 1);
    function draw() {
      var a = +from.value, b = +to.value;
      var shrank = 0;
      var root = buildTree(flame, function (p) {
        var change = flame.live[b][p] - flame.live[a][p];
        if (change < 0) shrank -= change;
        return change;
      }, flame.rest[b] - flame.rest[a], flame.left_out);
      caption.textContent = 'Grew between ' + humanSeconds(flame.times[a]) + ' and ' +
        humanSeconds(flame.times[b]) + ': ' + humanBytes(root.value) + ' in the stacks drawn; ' +
        humanBytes(shrank) + ' shrank in others (not drawn).';
      if (root.value <= 0) {
        holder.replaceChildren(element('p', null, 'No stack grew between these moments.'));
        return;
      }
      flameGraph(holder, root, 'growth', 'Flame graph of the growth between two moments');
    }
    from.addEventListener('change', draw);
    to.addEventListener('change', draw);
    draw();
    return element('div', null, [element('div', {'class': 'flame-tools'}, [
      element('label', null, ['From ', from]), element('label', null, ['to ', to])]), caption, holder]);
  }

  // --- the report ------------------------------------------------------------
  function facts(pairs) {
    var list = element('dl', {'class': 'facts'});
    pairs.forEach(function (pair) {
      if (pair[1] === undefined || pair[1] === '') return;
      list.appendChild(element('dt', null, pair[0]));
      list.appendChild(element('dd', null, pair[1]));
    });
    return list;
  }
  function stackList(stack, label) {
    return element('ol', {'class': 'stack', 'aria-label': label}, stack.map(function (frame) {
      return element('li', null, frame);
    }));
  }

  // `level`: the heading one below the section's (h3 alone, h4 in a tree).
  function siteCard(site, process, heading, growing, level) {
    var rate = humanBytes(site.growth_bytes_per_sec) + '/s (90 % interval ' +
      humanBytes(Math.max(site.growth_interval[0], 0)) + ' to ' + humanBytes(site.growth_interval[1]) + '/s)';
    var shown = growing ? [
      ['growth', rate],
      ['confidence', percent(site.confidence)],
      ['live now', humanBytes(site.live_bytes)],
      ['call sites', site.call_sites !== undefined ? String(site.call_sites) : undefined],
      ['age of its memory', site.age]
    ] : [
      ['verdict', site.verdict],
      ['trend', rate],
      ['live now', humanBytes(site.live_bytes)],
      ['allocated', humanBytes(site.allocated_bytes) + ' in all'],
      ['age of its memory', site.age]
    ];
    return element('section', {'class': 'card site', 'data-verdict': site.verdict}, [
      element(level, null, heading),
      facts(shown),
      lineChart({id: 'site', times: process.times, height: 160,
        title: 'Live bytes of ' + site.title + ' over time',
        description: site.series.length ? 'From ' + humanBytes(site.series[0]) + ' to ' +
          humanBytes(site.series[site.series.length - 1]) + ' over ' + humanSeconds(process.seconds) +
          '; ' + site.verdict + '.' : 'No points.',
        series: [{key: growing ? 'site' : 'steady', name: 'live bytes', values: site.series}]}),
      element('details', {open: growing ? '' : null}, [element('summary', null, 'Stack (' +
        site.stack.length + ' frames, from the allocating call site outwards)'),
        stackList(site.stack, 'Stack of ' + site.title)])
    ]);
  }

  function processSection(process, single) {
    var section = element('section', {'class': 'process', 'data-pid': process.pid});
    if (!single) section.appendChild(element('h2', null, 'Process ' + process.pid + ': ' + process.command));
    section.appendChild(element('p', {'class': single ? 'muted' : 'headline'},
      single ? 'pid ' + process.pid + ': ' + process.command + ' · ' + process.snapshots +
        ' snapshots over ' + humanSeconds(process.seconds) : process.headline));
    if (process.start_note) section.appendChild(element('p', {'class': 'muted'}, process.start_note));
    if (!process.snapshots) {
      section.appendChild(element('p', null, 'The recording holds no snapshot: nothing to chart.'));
      return section;
    }
    var level = single ? 'h2' : 'h3', cardLevel = single ? 'h3' : 'h4';
    // Anchors a link (or a screenshot) can point at: #flame-live, #p1234-flame-live.
    function heading(id, text) {
      return element(level, {id: (single ? '' : 'p' + process.pid + '-') + id}, text);
    }
    section.appendChild(heading('memory', 'Memory over time'));
    section.appendChild(element('p', null, process.memory_text));
    var memory = process.memory, series = [{key: 'rss', name: 'RSS', values: memory.rss}];
    if (memory.in_use) series.push({key: 'in_use', name: 'malloc in use', values: memory.in_use});
    if (memory.retained) {
      series.push({key: 'retained', name: 'free, retained by malloc', values: memory.retained});
    }
    series.push({key: 'live_heap', name: 'live heap (sampled)', values: memory.live_heap});
    section.appendChild(lineChart({id: 'memory', times: process.times, height: 260,
      title: 'Memory of process ' + process.pid + ' over time',
      description: process.memory_text, series: series}));

    section.appendChild(heading('suspects', process.suspects.length ?
      'Suspects: call sites whose live memory keeps growing' : 'Suspects'));
    if (!process.suspects.length) {
      section.appendChild(element('p', null, 'No call site\'s live memory grows steadily.'));
    } else if (process.growing_count > process.suspects.length) {
      section.appendChild(element('p', {'class': 'muted'}, 'The first ' + process.suspects.length +
        ' of ' + process.growing_count + ', fastest and surest first.'));
    }
    process.suspects.forEach(function (site, i) {
      section.appendChild(siteCard(site, process, '#' + (i + 1) + ' ' + site.title, true, cardLevel));
    });
    if (process.heap_growth) {
      section.appendChild(element('p', null, 'The live heap grows ' +
        humanBytes(process.heap_growth.growth_bytes_per_sec) + '/s and no single call site explains it' +
        (process.spread_growth.length ? '; summed by the caller the sites share:' : '.')));
      process.spread_growth.forEach(function (site, i) {
        section.appendChild(siteCard(site, process, 'Caller #' + (i + 1) + ' ' + site.title, true,
          cardLevel));
      });
    }

    section.appendChild(heading('not-growing', 'Not growing: what holds the most'));
    section.appendChild(element('p', {'class': 'muted'}, process.others_count +
      ' call sites hold memory without growing steadily (a plateau filled and stopped; flat or ' +
      'shrinking memory turns over). The largest, and why each was not called a leak:'));
    process.others.forEach(function (site) {
      section.appendChild(siteCard(site, process, site.title, false, cardLevel));
    });

    section.appendChild(heading('flame-live', 'Flame graph: the live heap at the end'));
    section.appendChild(liveFlame(process.flame));
    section.appendChild(heading('flame-growth', 'Flame graph: what grew between two moments'));
    section.appendChild(growthFlame(process.flame));
    if (process.flame.left_out) {
      section.appendChild(element('p', {'class': 'muted'}, process.flame.left_out +
        ' smaller stacks are summed as one frame in both flame graphs.'));
    }
    return section;
  }

  function renderReport(data, main) {
    if (data.processes.length > 1) {
      main.appendChild(element('h2', null, 'Processes'));
      var rows = data.processes.map(function (p) {
        return element('tr', null, [element('td', {'class': 'text'}, p.path),
          element('td', {'class': 'text'}, p.process), element('td', {'class': 'text'}, p.state)]);
      });
      main.appendChild(element('table', null, [element('thead', null, element('tr', null, [
        element('th', {scope: 'col'}, 'recording'), element('th', {scope: 'col', 'class': 'text'}, 'process'),
        element('th', {scope: 'col', 'class': 'text'}, 'state')])), element('tbody', null, rows)]));
    }
    data.detailed.forEach(function (process) {
      main.appendChild(processSection(process, data.detailed.length === 1 && data.processes.length === 1));
    });
  }

  // --- the check -------------------------------------------------------------
  function renderCheck(data, main) {
    data.processes.forEach(function (process) {
      var card = element('section', {'class': 'card' + (process.failed ? ' failed' : ''),
        'data-pid': process.pid, 'data-failed': process.failed ? '1' : '0'});
      card.appendChild(element('h2', null, (process.failed ? 'FAIL ' : 'ok ') + 'pid ' + process.pid +
        ': ' + process.command));
      card.appendChild(element('p', null, process.summary));
      if (process.leaks.length) {
        card.appendChild(element('h3', null, 'Leaks at exit'));
        process.leaks.forEach(function (leak) {
          card.appendChild(element('section', {'class': 'card site', 'data-kind': leak.kind}, [
            element('h4', null, humanBytes(leak.bytes) + ' in ' + leak.objects + ' object' +
              (leak.objects === 1 ? '' : 's') + ' ' + leak.kind + ' at ' + leak.title),
            stackList(leak.stack, 'Stack of ' + leak.title)]));
        });
      }
      if (process.growth.length) {
        card.appendChild(element('h3', null, 'Growing faster than ' +
          humanBytes(data.max_growth_bytes_per_sec) + '/s'));
        process.growth.forEach(function (finding) {
          card.appendChild(element('section', {'class': 'card site'}, [
            element('h4', null, humanBytes(finding.growth_bytes_per_sec) + '/s at ' + finding.title +
              ' (' + percent(finding.confidence) + ' confidence, ' + humanBytes(finding.live_bytes) +
              ' live)'), stackList(finding.stack, 'Stack of ' + finding.title)]));
        });
      }
      if (process.flame.paths.length) {
        card.appendChild(element('h3', null, 'Flame graph of what leaked'));
        var holder = element('div');
        var root = buildTree(process.flame, function (p) { return process.flame.live[0][p]; }, 0, 0);
        if (root.value > 0) {
          flameGraph(holder, root, 'leaks', 'Flame graph of the leaks of process ' + process.pid);
          card.appendChild(holder);
        }
      }
      main.appendChild(card);
    });
    if (!data.processes.length) main.appendChild(element('p', null, 'No process wrote a recording.'));
  }

  var data = JSON.parse(document.getElementById('heapdrift-data').textContent);
  var main = document.getElementById('main');
  document.title = data.title;
  if (data.kind === 'check') renderCheck(data, main);
  else renderReport(data, main);
  // The anchors are drawn after the browser looked for them: look again.
  var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.scrollIntoView();
  document.body.dataset.ready = '1';
})();
