/**
 * `distance(a, b)` between two geopoints written `lat lon [alt [acc]]`, in metres on a
 * sphere, ignoring altitude: the haversine rule commcare-core's `GeoPointUtils` uses,
 * with its Earth radius (6,371,009 m).
 */
const EARTH_RADIUS_M = 6_371_009;

export function parseGeopoint(s: string): { lat: number; lon: number } | undefined {
  const parts = s.trim().split(/\s+/);
  if (parts.length < 2) return undefined;
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  return { lat, lon };
}

export function geoDistance(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
