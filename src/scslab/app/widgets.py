"""The sandbox's own browser widgets (ipyvue templates, so they work in the app and in
Jupyter alike), none of which loads anything from the network.

* ``VegaRuntime`` puts the Vega bundle that scslab embeds in its reports
  (``report.html.javascript_bundle``, from vl-convert) in the page, once;
* ``VegaChart`` draws one Vega-Lite spec and marks its element with the configuration it
  shows (``data-key``) and whether it is drawn (``data-rendered``), which the browser
  tests wait for;
* ``Download`` is a button that asks Python for a file's bytes when clicked and hands
  them to the browser as a download.
"""

from __future__ import annotations

import ipyvue
import traitlets

from scslab.report.html import EMBED_OPTIONS, javascript_bundle

RUNTIME_TEMPLATE = """
<template><span class="scslab-vega-runtime" style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    // the bundle declares top-level names: put it in the page only once
    if (!window.vegaEmbed && !window.scslabVegaLoading) {
      window.scslabVegaLoading = true;
      const script = document.createElement("script");
      script.textContent = this.bundle;
      document.head.appendChild(script);
    }
  }
}
</script>
"""

CHART_TEMPLATE = """
<template>
  <div class="scslab-chart" :data-chart="chart" data-rendered="no" data-key="" ref="box"></div>
</template>
<script>
module.exports = {
  mounted() { this.schedule(); },
  // a new configuration may bring the same spec: redraw on either, once per update, one
  // drawing at a time (each draws the latest spec)
  watch: { spec_json() { this.schedule(); }, drawn_key() { this.schedule(); } },
  methods: {
    schedule() {
      if (this.scheduled) { return; }
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.queue = (this.queue || Promise.resolve()).then(() => this.draw());
      }, 0);
    },
    async vega() {
      for (let i = 0; i < 600 && !window.vegaEmbed; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return window.vegaEmbed;
    },
    async draw() {
      const el = this.$refs.box;
      const key = this.drawn_key;
      const text = this.spec_json;
      const embed = await this.vega();
      if (!el) { return; }
      el.setAttribute("data-rendered", "no");
      if (!embed) {
        el.textContent = "The chart library did not load.";
        el.setAttribute("data-rendered", "failed");
        return;
      }
      // everything but the rows: when only the rows changed (a lever moved), the drawn
      // view takes the new rows and Vega recomputes scales, axes and marks from them,
      // which costs a fraction of compiling and drawing the chart anew
      const spec = JSON.parse(text);
      const { datasets, ...rest } = spec;
      const shape = JSON.stringify(rest) + JSON.stringify(Object.keys(datasets || {}));
      try {
        if (this.view && this.shape === shape) {
          for (const [name, rows] of Object.entries(datasets || {})) {
            this.view.data(name, rows);
          }
          await this.view.resize().runAsync();  // resize: lay out again for the new labels
        } else {
          if (this.view) { this.view.finalize(); }
          const result = await embed(el, spec, this.options);
          this.view = result.view;
          this.shape = shape;
        }
        if (key !== this.drawn_key || text !== this.spec_json) { return; }  // drawn next
        el.scslabView = this.view;  // for the browser tests: the view and what it shows
        el.scslabSpec = text;
        el.setAttribute("data-key", key);
        el.setAttribute("data-rendered", "yes");
      } catch (err) {
        this.view = null;
        el.setAttribute("data-rendered", "failed");
        el.textContent = "This chart could not be drawn: " + err;
        console.error("scslab app: chart " + this.chart + " failed:", err);
      }
    }
  }
}
</script>
"""


class VegaRuntime(ipyvue.VueTemplate):
    """Loads the Vega bundle into the page (once, however many are shown)."""

    template = traitlets.Unicode(RUNTIME_TEMPLATE).tag(sync=True)
    bundle = traitlets.Unicode("").tag(sync=True)


class VegaChart(ipyvue.VueTemplate):
    """One Vega-Lite chart; ``drawn_key`` is written to ``data-key`` once it is drawn.

    The spec travels as JSON text: the page's renderer then compares one string per
    chart rather than walking thousands of rows on every update."""

    template = traitlets.Unicode(CHART_TEMPLATE).tag(sync=True)
    spec_json = traitlets.Unicode("{}").tag(sync=True)
    chart = traitlets.Unicode("").tag(sync=True)
    drawn_key = traitlets.Unicode("").tag(sync=True)
    options = traitlets.Dict(EMBED_OPTIONS).tag(sync=True)


DOWNLOAD_TEMPLATE = """
<template>
  <button type="button" class="scslab-download" :data-filename="filename"
          @click="request = request + 1">{{ label }}</button>
</template>
<script>
module.exports = {
  watch: {
    payload(value) {
      if (!value) { return; }
      const blob = new Blob([value], { type: this.mime_type });
      const url = window.URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.download = this.filename;
      a.href = url;
      document.body.appendChild(a);
      a.click();
      document.body.removeChild(a);
      setTimeout(() => window.URL.revokeObjectURL(url), 1000);
      this.payload = null;
    }
  }
}
</script>
"""


class Download(ipyvue.VueTemplate):
    """A button that downloads ``fetch()``'s bytes as ``filename`` when clicked."""

    template = traitlets.Unicode(DOWNLOAD_TEMPLATE).tag(sync=True)
    label = traitlets.Unicode("Download").tag(sync=True)
    filename = traitlets.Unicode("download").tag(sync=True)
    mime_type = traitlets.Unicode("application/octet-stream").tag(sync=True)
    request = traitlets.Int(0).tag(sync=True)
    payload = traitlets.Bytes(None, allow_none=True).tag(sync=True)
    fetch = traitlets.Any(None)  # () -> bytes; stays in Python

    # not ``_send``: that name is ipywidgets' own, for every message to the browser
    @traitlets.observe("request")
    def _on_request(self, change) -> None:
        if change["new"] and self.fetch is not None:
            data = self.fetch()
            self.payload = data.encode() if isinstance(data, str) else bytes(data)


def bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript (built once per process)."""
    return javascript_bundle()
