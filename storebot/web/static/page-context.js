// Tells the assistant which product this page shows, so "is it waterproof?" means this product.
(function () {
  "use strict";
  var script = document.currentScript;
  var context = { productId: script && script.dataset.productId, page: "product" };
  if (window.Storebot && typeof window.Storebot.setContext === "function") {
    window.Storebot.setContext(context);
  } else {
    // Queued until the widget loads (it replays window.Storebot.q).
    window.Storebot = window.Storebot || function () { (window.Storebot.q = window.Storebot.q || []).push(arguments); };
    window.Storebot("setContext", context);
  }
})();
