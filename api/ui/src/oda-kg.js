// oda-kg query page: YASGUI pointed at this server's SPARQL endpoint, with the named queries
// (queries/*.rq) as ready tabs. The configuration comes from the JSON block the server renders
// into the page (#kg-config); nothing here talks to any host other than the page's own.
(function () {
  "use strict";

  var root = document.getElementById("yasgui");

  function fail(message) {
    var box = document.createElement("p");
    box.className = "kg-error";
    box.textContent = message;
    root.replaceChildren(box);
  }

  if (typeof window.Yasgui !== "function") {
    fail("The YASGUI script did not load. Run `make setup` (it runs `npm ci` in api/ui) and reload.");
    return;
  }

  var config = JSON.parse(document.getElementById("kg-config").textContent);
  // Absolute, resolved against the page, so the page also works under a path prefix.
  var endpoint = new URL(config.endpoint, document.baseURI).href;
  var Yasgui = window.Yasgui;

  // Only completers that work offline: prefixes (bundled list) and the query's own variables.
  // The default `property` and `class` completers ask lov.linkeddata.es on every keystroke.
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];

  var yasgui = new Yasgui(root, {
    persistenceId: "oda-kg",
    autoAddOnInit: false,
    copyEndpointOnNewTab: true,
    tabName: "Query",
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
      keys: []
    },
    yasqe: { value: config.defaultQuery },
    yasr: { prefixes: config.prefixes }
  });

  function tabId(query) {
    return "kg-" + query.name;
  }

  function openQuery(query, select) {
    var id = tabId(query);
    if (yasgui.getTab(id)) {
      if (select) yasgui.selectTabId(id);
      return yasgui.getTab(id);
    }
    return yasgui.addTab(select, {
      id: id,
      name: query.title || query.name,
      yasqe: { value: query.text },
      requestConfig: { endpoint: endpoint }
    });
  }

  // First visit (nothing persisted in this browser): one tab per named query, the first selected.
  if (yasgui.persistentConfig.getTabs().length === 0) {
    config.queries.forEach(function (query, index) {
      openQuery(query, index === 0);
    });
    if (config.queries.length) yasgui.selectTabId(tabId(config.queries[0]));
    else yasgui.addTab(true);
  }

  var picker = document.getElementById("kg-examples");
  config.queries.forEach(function (query) {
    var option = document.createElement("option");
    option.value = query.name;
    option.textContent = query.title || query.name;
    if (query.description) option.title = query.description;
    picker.appendChild(option);
  });
  picker.addEventListener("change", function () {
    var chosen = config.queries.find(function (query) {
      return query.name === picker.value;
    });
    if (chosen) openQuery(chosen, true);
    picker.value = "";
  });

  window.odaKg = { yasgui: yasgui, endpoint: endpoint, queries: config.queries };
})();
