/** A position in a server's binary log. Example: `{ file: 'mysql-bin.000012', position: 4711 }` */
export interface Coordinates {
  file: string;
  position: number;
}
