// The dashboard page: reads /api/… and renders with DOM nodes and textContent only — every value shown
// is user data (config files, commit messages, command output) and is never parsed as HTML.

const FILE_PAGE = 200;
const HISTORY_LIMIT = 50;

/** What is open, so an update redraws it: the file list and file of one environment, one deployment. */
const view = {
  files: undefined,
  file: undefined,
  deployment: undefined,
  changes: undefined,
  content: undefined,
};

/** `el('td', { class: 'x' }, 'text', node)`: strings become text nodes, never markup. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  // Updates redraw the page: a control keeps its key so the focus can come back to it.
  if ((tag === 'button' || tag === 'input') && !node.dataset.key)
    node.dataset.key = node.id || node.textContent;
  return node;
}

/**
 * The control that last had the focus, followed as it moves: a redraw that removes it gives the
 * focus to its new copy, even when the user moved on while the redraw was fetching.
 */
let lastFocus;
document.addEventListener('focusin', (event) => {
  const target = event.target;
  lastFocus = { id: target.id, key: target.dataset?.key, selection: target.selectionStart };
});
document.addEventListener('keyup', (event) => {
  if (lastFocus && event.target.id === 'files-filter') lastFocus.selection = event.target.selectionStart;
});

/** Runs `render`; when it removed the focused control, gives the focus back to its new copy. */
async function keepingFocus(render) {
  await render();
  const active = document.activeElement;
  if (active && active !== document.body) return;
  const { id, key, selection } = lastFocus ?? {};
  if (!id && !key) return;
  const again = id ? document.getElementById(id) : document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (!again) return;
  again.focus();
  if (id === 'files-filter' && selection !== undefined && selection !== null)
    again.setSelectionRange(selection, selection);
}

/** The button that closes a panel. */
function closeButton(label, close) {
  return el('button', { type: 'button', onclick: close }, label);
}

function short(commit) {
  return commit ? commit.slice(0, 10) : '—';
}

function state(name) {
  return el('span', { class: `state state-${String(name).replaceAll(' ', '-')}` }, name);
}

function table(headings, rows, label) {
  return el(
    'table',
    { 'aria-label': label },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headings.map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? `${path}: HTTP ${response.status}`);
  return body;
}

function query(params) {
  return new URLSearchParams(params).toString();
}

function approvalsText(approvals) {
  if (!approvals || approvals.kind === 'none')
    return 'no approval record (pushed without a pull request, or no bot)';
  if (approvals.kind === 'omitted') return `approval record left out: ${approvals.reason}`;
  const who = approvals.approvedBy.length > 0 ? approvals.approvedBy.join(', ') : 'nobody';
  return `PR #${approvals.pr}, approved by ${who}${approvals.mergedBy ? `, merged by ${approvals.mergedBy}` : ''}${approvals.satisfied ? '' : ' (policy NOT satisfied)'}`;
}

function renderHead(overview, history) {
  const { head, refused, syncers } = overview.status;
  const body = document.getElementById('head-body');
  if (!head) {
    body.replaceChildren(el('p', {}, 'Nothing mirrored yet: the syncer has not published a commit.'));
  } else {
    const entry = history.find((h) => h.commit === head.commit);
    body.replaceChildren(
      el(
        'dl',
        {},
        el('dt', {}, 'Commit'),
        el(
          'dd',
          {},
          el('code', { 'data-testid': 'head-commit' }, head.commit),
          head.forced ? ' (force-pushed)' : '',
        ),
        el('dt', {}, 'Author'),
        el(
          'dd',
          {},
          `${head.author.name} <${head.author.email}>`,
          el('span', { class: 'muted' }, ` at ${head.time}`),
        ),
        el('dt', {}, 'Message'),
        el('dd', {}, el('pre', { 'data-testid': 'head-message' }, head.message)),
        el('dt', {}, 'Approvals'),
        el('dd', {}, approvalsText(entry?.approvals)),
        el('dt', {}, 'Mirrored'),
        el(
          'dd',
          {},
          head.syncedAt,
          syncers.length > 0 ? ` — syncers: ${syncers.join(', ')} (first leads)` : '',
        ),
      ),
    );
  }
  const box = document.getElementById('refused');
  box.hidden = !refused;
  if (refused) {
    box.replaceChildren(
      el(
        'div',
        { class: 'panel refused', role: 'alert', 'data-testid': 'refused' },
        el(
          'h3',
          {},
          state('refused'),
          ' commit ',
          el('code', {}, refused.commit),
          refused.tag ? ` (tag ${refused.tag})` : '',
        ),
        el(
          'p',
          {},
          `${refused.errorCount} error(s), refused at ${refused.refusedAt}; the last good commit stays live.`,
        ),
        el(
          'ul',
          {},
          refused.diagnostics.map((d) =>
            el(
              'li',
              {},
              el('code', {}, `${d.file}:${d.line}:${d.column}`),
              ` ${d.message}`,
              d.rule ? el('span', { class: 'muted' }, ` (${d.rule})`) : '',
            ),
          ),
        ),
      ),
    );
  }
}

function renderEnvironments(overview) {
  const rows = overview.status.environments.map((env) => {
    const owners = overview.services[env.service]?.owners ?? [];
    const open = view.files && view.files.service === env.service && view.files.env === env.env;
    return el(
      'tr',
      {},
      el('th', { scope: 'row' }, env.service),
      el('td', {}, env.env),
      el('td', {}, owners.join(', ') || '—'),
      el('td', {}, el('code', {}, short(env.serves.commit)), env.serves.tag ? ` ${env.serves.tag}` : ''),
      el('td', {}, String(env.files)),
      el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            'aria-expanded': open ? 'true' : 'false',
            'aria-controls': 'files',
            onclick: () => openFiles(env.service, env.env),
          },
          `Files of ${env.service} ${env.env}`,
        ),
      ),
    );
  });
  document
    .getElementById('environments-body')
    .replaceChildren(
      table(['Service', 'Environment', 'Owners', 'Serves', 'Files', ''], rows, 'Services and environments'),
    );
}

async function openFiles(service, env, filter = '') {
  view.files = { service, env, filter, shown: FILE_PAGE };
  view.file = undefined;
  await renderFiles();
  document.getElementById('files-filter')?.focus();
}

async function renderFiles() {
  const box = document.getElementById('files');
  if (!view.files) {
    box.hidden = true;
    return;
  }
  const { service, env, filter, shown } = view.files;
  const page = await getJson(`/api/files?${query({ service, env, filter, offset: 0, limit: shown })}`);
  const filterInput = el('input', {
    id: 'files-filter',
    type: 'search',
    value: view.files.draft ?? filter,
    oninput: (event) => {
      view.files.draft = event.target.value;
    },
    'aria-label': `Filter the files of ${service} ${env}`,
    placeholder: 'filter by path',
  });
  const form = el(
    'form',
    {
      onsubmit: (event) => {
        event.preventDefault();
        openFiles(service, env, filterInput.value);
      },
    },
    filterInput,
    el('button', { type: 'submit' }, 'Filter'),
  );
  const list = el(
    'ul',
    { class: 'files', 'data-testid': 'file-list' },
    page.files.map((file) =>
      el(
        'li',
        {},
        el('button', { type: 'button', class: 'link', onclick: () => openFile(file.path) }, file.path),
      ),
    ),
  );
  const more =
    page.files.length < page.total
      ? el(
          'button',
          {
            type: 'button',
            'data-key': 'show-more-files',
            onclick: () => {
              view.files.shown += FILE_PAGE;
              renderFiles();
            },
          },
          `Show more (${page.files.length} of ${page.total})`,
        )
      : '';
  const content = el('div', { id: 'file-content' });
  box.replaceChildren(
    el(
      'div',
      { class: 'panel' },
      el(
        'h3',
        {},
        `Files of ${service} in ${env}`,
        el('span', { class: 'muted' }, ` at ${short(page.commit)}`),
      ),
      form,
      el('p', { class: 'muted' }, `${page.total} file(s)`),
      list,
      more,
      content,
      el('button', { type: 'button', onclick: () => closeFiles() }, 'Close files'),
    ),
  );
  box.hidden = false;
  if (view.file) await renderFile();
}

function closeFiles() {
  view.files = undefined;
  view.file = undefined;
  renderFiles();
}

async function openFile(path) {
  view.file = path;
  await renderFile();
  document.getElementById('file-content-title')?.focus();
}

async function renderFile() {
  const box = document.getElementById('file-content');
  if (!box || !view.files || !view.file) return;
  const { service, env } = view.files;
  let file;
  try {
    file = await getJson(`/api/file?${query({ service, env, path: view.file })}`);
  } catch (error) {
    box.replaceChildren(el('p', { role: 'alert' }, error.message));
    return;
  }
  box.replaceChildren(
    el(
      'h4',
      { id: 'file-content-title', tabindex: '-1' },
      file.path,
      el('span', { class: 'muted' }, ` ${file.size} bytes, content ${short(file.id)}`),
    ),
    file.text === undefined
      ? el('p', {}, 'Not text: not shown.')
      : el('pre', { 'data-testid': 'file-text' }, file.text),
  );
}

function renderHosts(overview) {
  const rows = [];
  for (const env of overview.status.environments) {
    for (const host of env.hosts) {
      const drift = overview.drift[host.host]?.[`${env.service}/${env.env}`] ?? [];
      rows.push(
        el(
          'tr',
          { 'data-testid': `host-${host.host}-${env.service}-${env.env}` },
          el('th', { scope: 'row' }, host.host),
          el('td', {}, `${env.service} ${env.env}`),
          el('td', {}, state(host.state)),
          el('td', {}, el('code', {}, short(host.commit))),
          el(
            'td',
            {},
            host.reason ?? '',
            host.rejection
              ? el(
                  'details',
                  {},
                  el('summary', {}, 'output of the check'),
                  el('pre', {}, host.rejection.run.outputTail),
                )
              : '',
            drift.length > 0
              ? el(
                  'p',
                  {},
                  state('drifting'),
                  ` ${drift.map((d) => `${d.file}${d.repaired ? ' (repaired)' : ''}`).join(', ')}`,
                )
              : '',
          ),
        ),
      );
    }
    for (const instance of env.instances) {
      rows.push(
        el(
          'tr',
          { 'data-testid': `instance-${env.service}-${env.env}-${instance.record.id}` },
          el('th', { scope: 'row' }, `instance ${instance.record.host}:${instance.record.pid}`),
          el('td', {}, `${env.service} ${env.env}`),
          el('td', {}, state(instance.state)),
          el('td', {}, el('code', {}, short(instance.record.commit))),
          el('td', {}, ''),
        ),
      );
    }
  }
  document
    .getElementById('hosts-body')
    .replaceChildren(
      rows.length === 0
        ? el('p', {}, 'No host or instance is declared or registered.')
        : table(
            ['Host or instance', 'Service and environment', 'State', 'Applied commit', 'Why'],
            rows,
            'Hosts and instances',
          ),
    );
}

function renderDeployments(overview) {
  const rows = overview.deployments.map((d) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, `${d.service} ${d.env}`),
      el('td', {}, d.id),
      el('td', {}, d.release.version),
      el('td', {}, state(d.state)),
      el('td', {}, `step ${d.step + 1} of ${d.plan.steps.length}`),
      el(
        'td',
        {},
        el(
          'button',
          {
            type: 'button',
            'aria-controls': 'deployment',
            onclick: () => openDeployment(d.service, d.env, d.id),
          },
          `Details of ${d.service} ${d.env} ${d.id}`,
        ),
      ),
    ),
  );
  document
    .getElementById('deployments-body')
    .replaceChildren(
      rows.length === 0
        ? el('p', {}, 'No deployment yet: one starts when a release manifest changes.')
        : table(
            ['Service and environment', 'Deployment', 'Version', 'State', 'Progress', ''],
            rows,
            'Deployments',
          ),
    );
}

async function openDeployment(service, env, id) {
  view.deployment = { service, env, id };
  await renderDeployment();
  document.getElementById('deployment-title')?.focus();
}

async function renderDeployment() {
  const box = document.getElementById('deployment');
  if (!view.deployment) {
    box.hidden = true;
    return;
  }
  const d = await getJson(`/api/deployment?${query(view.deployment)}`);
  const { deployment } = d;
  const steps = deployment.plan.steps.map((step, index) =>
    el(
      'li',
      {},
      `${step.kind === 'canary' ? 'canary' : `batch ${index}`}${index === deployment.step ? ' (current)' : ''}: `,
      step.hosts.map((host) => {
        const task = d.tasks[host];
        return el(
          'span',
          { 'data-testid': `task-${host}` },
          ` ${host} `,
          state(task ? task.state : 'not started'),
        );
      }),
    ),
  );
  const logs = Object.entries(d.logs).map(([host, log]) =>
    el('details', { open: true }, el('summary', {}, `log of ${host}`), el('pre', {}, log)),
  );
  const transitions = deployment.transitions.map((t) =>
    el('li', {}, `${t.at} ${t.actor}: ${t.state} at step ${t.step + 1}${t.reason ? ` — ${t.reason}` : ''}`),
  );
  box.replaceChildren(
    el(
      'div',
      { class: 'panel' },
      el(
        'h3',
        { id: 'deployment-title', tabindex: '-1' },
        `${deployment.id} of ${deployment.service} ${deployment.env}: `,
        state(deployment.state),
      ),
      el(
        'p',
        {},
        `version ${deployment.release.version} from ${short(deployment.release.commit)} by ${deployment.release.author.name}`,
      ),
      el('ol', { 'aria-label': 'Batches' }, steps),
      logs,
      el('h4', {}, 'History of the deployment'),
      el('ol', {}, transitions),
      closeButton('Close deployment', () => {
        view.deployment = undefined;
        renderDeployment();
      }),
    ),
  );
  box.hidden = false;
}

function renderHistory(history) {
  const rows = history.map((h) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, String(h.seq)),
      el('td', {}, el('code', {}, short(h.commit))),
      el('td', {}, h.author.name),
      el('td', {}, h.subject),
      el('td', {}, approvalsText(h.approvals)),
      el('td', {}, el('code', {}, h.revert)),
      el(
        'td',
        {},
        el(
          'button',
          { type: 'button', 'aria-controls': 'changes', onclick: () => openChanges(h.seq) },
          `Changes in #${h.seq}`,
        ),
      ),
    ),
  );
  document
    .getElementById('history-body')
    .replaceChildren(
      table(
        ['#', 'Commit', 'Author', 'Message', 'Approvals', 'Roll back with', ''],
        rows,
        'Mirrored commits',
      ),
    );
}

async function openChanges(seq) {
  view.changes = seq;
  view.content = undefined;
  await renderChanges();
  document.getElementById('changes-title')?.focus();
}

/** A commit's diff: per environment, each file added, removed or modified, its before and after on demand. */
async function renderChanges() {
  const box = document.getElementById('changes');
  if (view.changes === undefined) {
    box.hidden = true;
    return;
  }
  let changes;
  try {
    changes = await getJson(`/api/changes?${query({ seq: view.changes })}`);
  } catch (error) {
    box.replaceChildren(el('p', { role: 'alert' }, error.message));
    box.hidden = false;
    return;
  }
  const show = (label, id) =>
    id
      ? el(
          'button',
          {
            type: 'button',
            'data-key': `${label} ${id}`,
            onclick: async () => {
              view.content = { label, id };
              await renderContent();
              document.getElementById('change-content-title')?.focus();
            },
          },
          label,
        )
      : '';
  const showDiff = (file) =>
    el(
      'button',
      {
        type: 'button',
        'aria-label': `Line diff of ${file.path}`,
        'data-key': `diff ${file.from} ${file.to}`,
        onclick: async () => {
          view.content = { diff: file };
          await renderContent();
          document.getElementById('change-content-title')?.focus();
        },
      },
      'diff',
    );
  box.replaceChildren(
    el(
      'div',
      { class: 'panel', 'data-testid': 'changes' },
      el(
        'h3',
        { id: 'changes-title', tabindex: '-1' },
        `Changes in #${changes.seq} `,
        el('code', {}, short(changes.commit)),
      ),
      el('p', { class: 'muted' }, `${changes.changedCount} path(s) changed in the repository`),
      changes.environments.map((env) =>
        el(
          'section',
          { 'aria-label': `${env.service} ${env.env}` },
          el('h4', {}, `${env.service} ${env.env}`),
          env.comparable
            ? el(
                'ul',
                {},
                env.files.map((file) =>
                  el(
                    'li',
                    {},
                    state(file.change),
                    ' ',
                    el('code', {}, file.path),
                    ' ',
                    show('before', file.from),
                    ' ',
                    show('after', file.to),
                    file.change === 'modified' ? [' ', showDiff(file)] : [],
                  ),
                ),
              )
            : el('p', {}, 'Older than the retention: its snapshots are no longer kept.'),
        ),
      ),
      el('div', { id: 'change-content' }),
      closeButton('Close changes', () => {
        view.changes = undefined;
        renderChanges();
      }),
    ),
  );
  box.hidden = false;
  await renderContent();
}

async function renderContent() {
  const box = document.getElementById('change-content');
  if (!box || !view.content) return;
  if (view.content.diff) return renderDiff(box, view.content.diff);
  try {
    const content = await getJson(`/api/content?${query({ id: view.content.id })}`);
    box.replaceChildren(
      el(
        'h4',
        { id: 'change-content-title', tabindex: '-1' },
        `${view.content.label}: content ${short(content.id)}`,
      ),
      content.text === undefined
        ? el('p', {}, 'Not text: not shown.')
        : el('pre', { 'data-testid': 'change-text' }, content.text),
    );
  } catch (error) {
    box.replaceChildren(el('p', { role: 'alert' }, error.message));
  }
}

/** A modified file's two versions line by line: numbered in each file, added and removed marked in words too. */
async function renderDiff(box, file) {
  let diff;
  try {
    diff = await getJson(`/api/diff?${query({ from: file.from, to: file.to })}`);
  } catch (error) {
    box.replaceChildren(el('p', { role: 'alert' }, error.message));
    return;
  }
  const title = el(
    'h4',
    { id: 'change-content-title', tabindex: '-1' },
    'Line diff of ',
    el('code', {}, file.path),
    ` (${short(diff.from)} → ${short(diff.to)})`,
  );
  if (!diff.comparable) {
    box.replaceChildren(
      title,
      el(
        'p',
        {},
        diff.notText
          ? 'Not text: compare the versions with before and after.'
          : 'Too different to compare line by line: see before and after.',
      ),
    );
    return;
  }
  const sign = { added: '+', removed: '−', context: '' };
  const rows = diff.hunks.flatMap((hunk) => [
    el(
      'tr',
      { class: 'diff-hunk' },
      el(
        'td',
        { colspan: '4' },
        `lines ${hunk.oldStart}–${hunk.oldStart + Math.max(hunk.oldLines, 1) - 1} before, ${hunk.newStart}–${hunk.newStart + Math.max(hunk.newLines, 1) - 1} after`,
      ),
    ),
    ...hunk.lines.map((line) =>
      el(
        'tr',
        { class: `diff-${line.kind}`, 'data-testid': `diff-${line.kind}` },
        el('td', { class: 'diff-number' }, line.old ?? ''),
        el('td', { class: 'diff-number' }, line.new ?? ''),
        el(
          'td',
          { class: 'diff-sign' },
          el('span', { 'aria-hidden': 'true' }, sign[line.kind]),
          el('span', { class: 'visually-hidden' }, line.kind === 'context' ? '' : line.kind),
        ),
        el(
          'td',
          {},
          el('code', {}, line.text),
          line.noNewlineAtEnd ? el('span', { class: 'muted' }, ' (no newline at end of file)') : '',
        ),
      ),
    ),
  ]);
  box.replaceChildren(
    title,
    el('p', { class: 'muted' }, `${diff.added} line(s) added, ${diff.removed} removed`),
    table(['Before', 'After', 'Change', 'Line'], rows, `Line diff of ${file.path}`),
  );
}

let refreshing;
let again = false;

/** Reads everything shown again; calls during a refresh collapse into one more afterwards. */
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      try {
        const [overview, history] = await Promise.all([
          getJson('/api/overview'),
          getJson(`/api/history?limit=${HISTORY_LIMIT}`),
        ]);
        await keepingFocus(async () => {
          renderHead(overview, history);
          renderEnvironments(overview);
          renderHosts(overview);
          renderDeployments(overview);
          renderHistory(history);
          await renderFiles();
          await renderDeployment();
          await renderChanges();
        });
        document.body.dataset.head = overview.status.head?.commit ?? '';
      } catch (error) {
        setLive('error', `cannot read: ${error.message}`);
      }
    } while (again);
  })();
  try {
    await refreshing;
  } finally {
    refreshing = undefined;
  }
}

function setLive(status, text) {
  document.body.dataset.stream = status;
  document.getElementById('live').textContent = text;
}

let events;

/** One stream per tab, and none while the tab is hidden: browsers allow six connections per host. */
function openStream() {
  if (events) return;
  events = new EventSource('/api/events');
  events.addEventListener('hello', () => {
    setLive('open', 'live');
    refresh();
  });
  events.addEventListener('change', () => refresh());
  events.addEventListener('error', () => setLive('reconnecting', 'reconnecting…'));
}

function closeStream() {
  events?.close();
  events = undefined;
  setLive('closed', 'paused while hidden');
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') closeStream();
  else openStream();
});

if (document.visibilityState !== 'hidden') openStream();
refresh();
