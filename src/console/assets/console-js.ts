/**
 * The console's browser script (served, to signed-in users only, at
 * `/_latchkey/console/assets/console.js`). Plain ES2017, no build step: it fetches the JSON
 * API and builds each view with DOM calls (text only, never HTML from data); the access graph
 * is inline SVG laid out here, in columns ordered to keep edges short.
 */
export const CONSOLE_JS = String.raw`'use strict';
(function () {
  var P = '/_latchkey/console';
  var SVG = 'http://www.w3.org/2000/svg';
  var app = document.getElementById('app');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) return;
      if (k === 'text') node.textContent = String(attrs[k]);
      else if (k === 'onclick') node.addEventListener('click', attrs[k]);
      else if (k === 'onsubmit') node.addEventListener('submit', attrs[k]);
      else node.setAttribute(k, String(attrs[k]));
    });
  }
  function append(node, children) {
    (Array.isArray(children) ? children : children === undefined ? [] : [children]).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function clear() { while (app.firstChild) app.removeChild(app.firstChild); }
  function show(nodes) { clear(); append(app, nodes); }

  function handle(res) {
    return res.text().then(function (text) {
      var body = {};
      try { body = text ? JSON.parse(text) : {}; } catch (e) { body = { message: text }; }
      if (res.status === 401) { location.href = P + '/sign-in'; throw new Error('signed out'); }
      if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
      return body;
    });
  }
  function get(path) {
    return fetch(P + '/api/' + path, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(handle);
  }
  function post(path, body) {
    return fetch(P + '/api/' + path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-latchkey-console': '1' },
      body: JSON.stringify(body)
    }).then(handle);
  }
  function failed(err) { return el('p', { class: 'error', role: 'alert', text: err.message }); }
  function table(id, headers, rows) {
    return el('table', { id: id }, [
      el('thead', {}, el('tr', {}, headers.map(function (h) { return el('th', { text: h }); }))),
      el('tbody', {}, rows)
    ]);
  }
  function td(x) { return el('td', {}, x); }
  function badge(kind, text) { return el('span', { class: 'badge ' + kind, text: text }); }
  function list(items, cls) { return el('ul', { class: cls }, items.map(function (t) { return el('li', { text: t }); })); }
  function hours(s) { return s % 3600 === 0 ? (s / 3600) + ' h' : s + ' s'; }

  var views = {};

  views.overview = function () {
    return get('overview').then(function (o) {
      return [
        el('h1', { text: 'Overview' }),
        el('h2', { text: 'Clusters' }),
        table('clusters-table', ['Cluster', 'OIDC issuer', 'IAM OIDC provider'], o.clusters.map(function (c) {
          return el('tr', {}, [td(c.name), td(el('code', { text: c.issuerUrl })), td(c.providerArn ? el('code', { text: c.providerArn }) : badge('warn', 'none: IRSA cannot work'))]);
        })),
        el('h2', { text: 'Service accounts' }),
        table('service-accounts-table', ['Cluster', 'Namespace', 'Name', 'Role annotation'], o.serviceAccounts.map(function (s) {
          return el('tr', {}, [td(s.cluster), td(s.namespace), td(s.name), td(s.annotations['eks.amazonaws.com/role-arn'] || '')]);
        })),
        el('h2', { text: 'Pod identity associations' }),
        table('associations-table', ['Id', 'Cluster', 'Service account', 'Role', 'Target role'], o.associations.map(function (a) {
          return el('tr', {}, [td(a.associationId), td(a.cluster), td(a.namespace + '/' + a.serviceAccount), td(el('code', { text: a.roleArn })), td(a.targetRoleArn ? el('code', { text: a.targetRoleArn }) : '')]);
        }))
      ];
    });
  };

  views.roles = function () {
    return get('roles').then(function (r) {
      return [el('h1', { text: 'Roles' })].concat(r.roles.map(function (role) {
        return el('div', { class: 'card role', 'data-role': role.roleName }, [
          el('h2', { text: role.roleName }),
          el('p', { class: 'muted' }, [el('code', { text: role.arn }), ' · max session ' + hours(role.maxSessionDuration)]),
          el('h3', { text: 'Trust policy' }),
          el('pre', { text: role.trustPolicy || '(none)' }),
          el('h3', { text: 'Permission policies' })
        ].concat(role.policies.length === 0 ? [el('p', { class: 'muted', text: 'none' })] : role.policies.map(function (p) {
          return el('div', {}, [el('code', { text: p.id }), el('pre', { text: p.document })]);
        })).concat(role.permissionsBoundary ? [el('h3', { text: 'Permissions boundary' }), el('code', { text: role.permissionsBoundary.id }), el('pre', { text: role.permissionsBoundary.document })] : []));
      }));
    });
  };

  views.decisions = function (arg) {
    var deniedOnly = arg === 'denied';
    return get('decisions?limit=100' + (deniedOnly ? '&denied=1' : '')).then(function (d) {
      return [
        el('h1', { text: 'Recent decisions' }),
        el('p', {}, [el('a', { href: deniedOnly ? '#decisions' : '#decisions/denied', id: 'toggle-denied', text: deniedOnly ? 'Show all calls' : 'Show denials only' })]),
        table('decisions-table', ['Time', 'Call', 'Caller', 'Outcome', ''], d.decisions.map(function (e) {
          return el('tr', { class: e.denied ? 'denied' : '', 'data-event-id': e.eventId }, [
            td(e.eventTime),
            td(e.eventSource.replace('.amazonaws.com', '') + ':' + e.eventName),
            td(el('code', { text: e.caller })),
            td(e.denied ? [badge('deny', 'denied'), ' ', e.errorMessage || ''] : e.errorCode ? [badge('warn', e.errorCode), ' ', e.errorMessage || ''] : badge('allow', 'ok')),
            td(e.errorCode ? el('a', { class: 'why', href: '#why/' + e.eventId, text: 'Why?' }) : '')
          ]);
        }))
      ];
    });
  };

  views.why = function (eventId) {
    return get('why?eventId=' + encodeURIComponent(eventId || '')).then(function (w) {
      var x = w.explanation;
      return [
        el('h1', { text: 'Why was ' + w.eventName + ' ' + (w.denied ? 'denied' : 'refused') + '?' }),
        el('p', { class: 'muted' }, [w.eventTime + ' · ', el('code', { text: w.caller })]),
        el('div', { id: 'why-summary', class: 'verdict denied', text: x ? x.summary : (w.note || w.errorMessage || '') }),
        w.step ? el('div', { class: 'card', id: 'why-step' }, [el('strong', { text: 'Chain step: ' }), w.step]) : null,
        x ? el('h2', { text: 'What decided' }) : null,
        x ? list(x.decidedBy, 'steps decided-by') : null,
        x && x.missingContextKeys.length ? el('p', { class: 'muted', text: 'The policies asked about keys the request did not carry: ' + x.missingContextKeys.join(', ') }) : null,
        x ? el('h2', { text: 'Every statement looked at' }) : null,
        x ? list(x.steps, 'steps') : null,
        el('h2', { text: 'The error the caller saw' }),
        el('pre', { text: (w.errorCode || '') + ': ' + (w.errorMessage || '') }),
        el('p', {}, el('a', { href: '#decisions', text: '← back to decisions' }))
      ];
    });
  };

  views['can-it'] = function () {
    var out = el('div', { id: 'can-it-result' });
    var form = el('form', { class: 'query', id: 'can-it-form', onsubmit: function (ev) {
      ev.preventDefault();
      var f = new FormData(form);
      var body = {};
      f.forEach(function (v, k) { body[k] = v; });
      while (out.firstChild) out.removeChild(out.firstChild);
      post('can-it', body).then(function (r) {
        append(out, [
          el('div', { id: 'can-it-verdict', class: 'verdict ' + (r.allowed ? 'allowed' : 'denied'), text: r.summary })
        ].concat(r.paths.map(function (p, i) {
          return el('div', { class: 'card' }, [
            el('strong', { text: 'Path ' + (i + 1) + ': ' + p.steps.map(function (s) { return s.via + ' → ' + s.roleArn; }).join(', then ') }),
            p.problem ? el('p', { class: 'error', text: p.problem }) : null,
            list(p.steps.map(function (s) { return s.action + ' on ' + s.roleArn + ': ' + s.explanation.summary; }), 'steps'),
            p.permission ? el('p', { text: p.permission.explanation.summary }) : null,
            p.permission ? list(p.permission.explanation.decidedBy, 'steps') : null
          ]);
        })));
      }, function (err) { append(out, failed(err)); });
    } }, [
      field('cluster', 'Cluster'), field('namespace', 'Namespace', 'default'), field('serviceAccount', 'Service account'),
      field('action', 'Action', 's3:GetObject'), field('resource', 'Resource', '*'),
      el('button', { type: 'submit', id: 'can-it-submit', text: 'Can it?' })
    ]);
    return get('overview').then(function (o) {
      if (o.clusters[0]) form.querySelector('[name=cluster]').value = o.clusters[0].name;
      return [el('h1', { text: 'Can it?' }), el('p', { class: 'muted', text: 'Would a pod running as this service account be allowed to do this?' }), form, out];
    });
  };
  function field(name, label, value) {
    return el('label', {}, [label, el('input', { name: name, id: 'f-' + name, value: value || '', required: 'required', spellcheck: 'false' })]);
  }

  views['who-can'] = function () {
    var out = el('div', { id: 'who-can-result' });
    var form = el('form', { class: 'query', id: 'who-can-form', onsubmit: function (ev) {
      ev.preventDefault();
      while (out.firstChild) out.removeChild(out.firstChild);
      var q = 'action=' + encodeURIComponent(form.querySelector('[name=action]').value) + '&resource=' + encodeURIComponent(form.querySelector('[name=resource]').value);
      get('who-can?' + q).then(function (r) {
        if (r.resourcePolicy) append(out, el('p', { class: 'muted', id: 'who-can-resource-policy', text: 'With the bucket policy of ' + r.resourcePolicy + ', owned by account ' + r.resourceAccount + '.' }));
        if (r.roleTrust) append(out, el('p', { class: 'muted', id: 'who-can-role-trust', text: r.roleTrust.known ? 'Decided with the trust policy of ' + r.roleTrust.roleArn + '.' : 'Latchkey holds no role ' + r.roleTrust.roleArn + ': identity policies alone decided.' }));
        append(out, r.principals.length === 0 ? el('p', { class: 'muted', text: 'Nobody: no user or role allows it and no service account reaches a role that does.' }) :
          table('who-can-table', ['Who', 'Through', 'Allowed by'], r.principals.map(function (p) {
            var where = p.accountId && r.resourceAccount && p.accountId !== r.resourceAccount ? ' [account ' + p.accountId + ']' : '';
            var who = p.kind === 'anonymous' ? 'anyone, without credentials' : p.kind === 'user' ? 'user ' + p.userArn : p.kind === 'role' ? 'role ' + p.roleArn : p.kind === 'subjectPattern' ? 'any service account matching ' + p.subjectPattern + ' (' + p.cluster + ')' + where : p.cluster + ' ' + p.namespace + '/' + p.serviceAccount + where;
            return el('tr', {}, [td(who), td(p.path.map(function (s) { return s.via + ' → ' + s.roleArn; }).join(' ; ')), td(p.allowedBy.join('; '))]);
          })));
      }, function (err) { append(out, failed(err)); });
    } }, [field('action', 'Action', 's3:GetObject'), field('resource', 'Resource', '*'), el('button', { type: 'submit', text: 'Who can?' })]);
    return Promise.resolve([el('h1', { text: 'Who can…?' }), form, out]);
  };

  views.lint = function () {
    return get('lint').then(function (r) {
      return [
        el('h1', { text: 'Lint' }),
        r.findings.length === 0 ? el('p', { class: 'muted', text: 'No findings.' }) :
          el('div', { id: 'lint-findings' }, r.findings.map(function (f) {
            return el('div', { class: 'card finding', 'data-rule': f.rule }, [
              badge(f.severity === 'error' ? 'deny' : 'warn', f.severity), ' ', el('strong', { text: f.rule }), ' ', el('code', { text: f.subject }),
              el('p', { text: f.message }),
              el('p', {}, [el('strong', { text: 'Fix: ' }), f.fix])
            ]);
          }))
      ];
    });
  };

  views.graph = function () {
    return get('graph').then(function (g) {
      var detail = el('div', { class: 'card graph-detail', id: 'graph-detail' }, el('p', { class: 'muted', text: 'Select a node to see its paths.' }));
      var drawing = drawGraph(g, detail);
      return [
        el('h1', { text: 'Access graph' }),
        el('p', { class: 'legend' }, [
          el('span', { text: 'blue: IRSA' }), el('span', { text: 'purple: pod identity' }), el('span', { text: 'orange dashed: role chaining' }),
          el('span', { text: 'green: allows' }), el('span', { text: 'red dotted: broken (trust refuses)' })
        ]),
        el('div', { class: 'graph-wrap' }, [el('div', { class: 'graph-canvas' }, drawing), detail])
      ];
    });
  };

  var NODE_W = 220, NODE_H = 34, COL_W = 265, ROW_H = 46, TOP = 44, LEFT = 16;
  function drawGraph(g, detail) {
    var byId = {};
    g.nodes.forEach(function (n) { byId[n.id] = n; });
    var preds = {}, succs = {};
    g.edges.forEach(function (e) {
      (succs[e.from] = succs[e.from] || []).push(e);
      (preds[e.to] = preds[e.to] || []).push(e);
    });
    var cols = [[], [], [], []];
    g.nodes.forEach(function (n) { cols[n.column].push(n); });
    cols[0].sort(function (a, b) { return a.label < b.label ? -1 : a.label > b.label ? 1 : 0; });
    var pos = {};
    cols[0].forEach(function (n, i) { pos[n.id] = i; });
    for (var c = 1; c < 4; c++) {
      cols[c].forEach(function (n) {
        var ps = (preds[n.id] || []).map(function (e) { return pos[e.from]; }).filter(function (x) { return x !== undefined; });
        n._key = ps.length ? ps.reduce(function (a, b) { return a + b; }, 0) / ps.length : 1e6;
      });
      cols[c].sort(function (a, b) { return a._key - b._key || (a.label < b.label ? -1 : 1); });
      cols[c].forEach(function (n, i) { pos[n.id] = i; });
    }
    var rows = Math.max(1, cols[0].length, cols[1].length, cols[2].length, cols[3].length);
    var width = LEFT * 2 + COL_W * 3 + NODE_W, height = TOP + rows * ROW_H + 20;
    var root = svg('svg', { id: 'graph-svg', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'Access graph' });
    ['Service accounts', 'Roles', 'Chained roles', 'Allowed actions'].forEach(function (t, i) {
      root.appendChild(svg('text', { class: 'col-title', x: LEFT + i * COL_W, y: 24, text: t }));
    });
    function xy(n) { return { x: LEFT + n.column * COL_W, y: TOP + pos[n.id] * ROW_H }; }
    var edgeEls = [];
    g.edges.forEach(function (e) {
      var a = byId[e.from], b = byId[e.to];
      if (!a || !b) return;
      var p = xy(a), q = xy(b);
      var x1 = p.x + NODE_W, y1 = p.y + NODE_H / 2, x2 = q.x, y2 = q.y + NODE_H / 2;
      if (b.column <= a.column) { x2 = q.x + NODE_W / 2; y2 = q.y; }
      var path = svg('path', {
        class: 'edge ' + e.kind + (e.works ? '' : ' broken'),
        d: 'M' + x1 + ' ' + y1 + ' C' + (x1 + 50) + ' ' + y1 + ' ' + (x2 - 50) + ' ' + y2 + ' ' + x2 + ' ' + y2,
        'data-from': e.from, 'data-to': e.to
      }, svg('title', { text: e.label + (e.works ? '' : ' (broken: trust refuses)') }));
      edgeEls.push({ edge: e, el: path });
      root.appendChild(path);
    });
    var nodeEls = {};
    g.nodes.forEach(function (n) {
      var p = xy(n);
      var label = n.label.length > 33 ? n.label.slice(0, 32) + '…' : n.label;
      var group = svg('g', { class: 'node ' + n.kind, transform: 'translate(' + p.x + ',' + p.y + ')', 'data-id': n.id, tabindex: 0 }, [
        svg('title', { text: n.label }),
        svg('rect', { width: NODE_W, height: NODE_H, rx: 6 }),
        svg('text', { x: 8, y: 21, text: label })
      ]);
      group.addEventListener('click', function () { select(n.id); });
      group.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(n.id); }
      });
      nodeEls[n.id] = group;
      root.appendChild(group);
    });
    function reach(start, next, key) {
      var seen = {}; var stack = [start];
      while (stack.length) {
        var id = stack.pop();
        if (seen[id]) continue;
        seen[id] = true;
        (next[id] || []).forEach(function (e) { stack.push(e[key]); });
      }
      return seen;
    }
    function select(id) {
      var down = reach(id, succs, 'to'), up = reach(id, preds, 'from');
      var on = {};
      Object.keys(down).concat(Object.keys(up)).forEach(function (k) { on[k] = true; });
      Object.keys(nodeEls).forEach(function (k) {
        nodeEls[k].setAttribute('class', 'node ' + byId[k].kind + (k === id ? ' selected' : '') + (on[k] ? '' : ' dim'));
      });
      edgeEls.forEach(function (x) {
        var lit = (down[x.edge.from] && down[x.edge.to]) || (up[x.edge.from] && up[x.edge.to]);
        x.el.setAttribute('class', 'edge ' + x.edge.kind + (x.edge.works ? '' : ' broken') + (lit ? '' : ' dim'));
      });
      var n = byId[id];
      while (detail.firstChild) detail.removeChild(detail.firstChild);
      append(detail, [
        el('h2', { text: n.label }),
        el('p', { class: 'muted', text: n.kind }),
        el('table', {}, el('tbody', {}, Object.keys(n.detail).map(function (k) { return el('tr', {}, [el('th', { text: k }), td(n.detail[k])]); }))),
        el('h3', { text: 'Leads to' }),
        list((succs[id] || []).map(function (e) { return e.label + ' → ' + (byId[e.to] ? byId[e.to].label : e.to) + (e.works ? '' : ' (broken)'); }), 'steps'),
        el('h3', { text: 'Reached from' }),
        list((preds[id] || []).map(function (e) { return (byId[e.from] ? byId[e.from].label : e.from) + ' → ' + e.label + (e.works ? '' : ' (broken)'); }), 'steps')
      ]);
    }
    return root;
  }

  function route() {
    var hash = (location.hash || '#overview').slice(1);
    var slash = hash.indexOf('/');
    var name = slash < 0 ? hash : hash.slice(0, slash);
    var arg = slash < 0 ? undefined : decodeURIComponent(hash.slice(slash + 1));
    var view = Object.prototype.hasOwnProperty.call(views, name) ? views[name] : views.overview;
    document.querySelectorAll('header nav a').forEach(function (a) {
      a.setAttribute('class', a.getAttribute('data-view') === name || (name === 'why' && a.getAttribute('data-view') === 'decisions') ? 'active' : '');
    });
    show(el('p', { class: 'muted', text: 'Loading…' }));
    app.setAttribute('data-view', name);
    app.removeAttribute('data-ready');
    view(arg).then(function (nodes) { show(nodes); app.setAttribute('data-ready', name); }, function (err) { show(failed(err)); app.setAttribute('data-ready', name); });
  }
  window.addEventListener('hashchange', route);
  route();
})();
`;
