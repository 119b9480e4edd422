// The item's BPMN diagram (bpmn-js viewer) with finished steps green and current steps yellow.
(function () {
  var container = document.getElementById('diagram');
  if (!container || !window.BpmnJS) return;
  var viewer = new window.BpmnJS({ container: container });
  fetch(container.dataset.src, { credentials: 'same-origin' })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      return viewer.importXML(data.xml).then(function () {
        var canvas = viewer.get('canvas');
        var registry = viewer.get('elementRegistry');
        data.done.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'done'); });
        data.current.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, 'current'); });
        canvas.zoom('fit-viewport');
        container.dataset.ready = 'true';
      });
    })
    .catch(function (error) {
      container.textContent = '流程图无法显示：' + error.message;
    });
})();
